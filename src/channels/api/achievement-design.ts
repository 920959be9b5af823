import type { FastifyInstance } from 'fastify'

/** Staff routes for an achievement's certificate and badge design (issue 25). */
export async function achievementDesignRoutes (_app: FastifyInstance): Promise<void> {}
