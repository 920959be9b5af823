import type { FastifyInstance } from 'fastify'

/** The Open Badges 3.0 API's resources under /ims/ob/v3p0 (discovery, credentials, profile). */
export async function openBadgesResourceRoutes (_app: FastifyInstance): Promise<void> {}
