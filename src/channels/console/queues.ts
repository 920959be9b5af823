import type { FastifyInstance } from 'fastify'

/** Staff console: queues (issue 25). */
export async function queuesRoutes (_app: FastifyInstance): Promise<void> {}
