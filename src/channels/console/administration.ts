import type { FastifyInstance } from 'fastify'

/** Staff console: administration (issue 25). */
export async function administrationRoutes (_app: FastifyInstance): Promise<void> {}
