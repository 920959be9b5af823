import type { FastifyInstance } from 'fastify'

/** The public employer lookup by certificate number and last name (issue 25). */
export async function lookupRoutes (_app: FastifyInstance): Promise<void> {}
