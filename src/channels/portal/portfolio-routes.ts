import type { FastifyInstance } from 'fastify'

/** Badges from other issuers that the holder keeps here (the Open Badges API's portfolio). */
export async function portfolioRoutes (_app: FastifyInstance): Promise<void> {}
