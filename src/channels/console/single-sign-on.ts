import type { FastifyInstance } from 'fastify'

/** Staff console: single-sign-on (issue 25). */
export async function singleSignOnRoutes (_app: FastifyInstance): Promise<void> {}
