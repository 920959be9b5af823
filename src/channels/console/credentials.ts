import type { FastifyInstance } from 'fastify'

/** Staff console: credentials (issue 25). */
export async function credentialsRoutes (_app: FastifyInstance): Promise<void> {}
