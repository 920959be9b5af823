import type { FastifyInstance } from 'fastify'

/** Consent to a platform's access through the Open Badges API, and the platforms a holder connected. */
export async function connectionRoutes (_app: FastifyInstance): Promise<void> {}
