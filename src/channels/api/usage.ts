import type { FastifyInstance } from 'fastify'

/** Staff routes: the counts that matter to the body, per achievement and per badge (issue 25). */
export async function usageRoutes (_app: FastifyInstance): Promise<void> {}
