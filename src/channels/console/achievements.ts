import type { FastifyInstance } from 'fastify'

/** Staff console: achievements (issue 25). */
export async function achievementsRoutes (_app: FastifyInstance): Promise<void> {}
