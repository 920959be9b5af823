import type { FastifyInstance } from 'fastify'

/** Staff console: upload (issue 25). */
export async function uploadRoutes (_app: FastifyInstance): Promise<void> {}
