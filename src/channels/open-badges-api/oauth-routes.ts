import type { FastifyInstance } from 'fastify'

/** The OAuth 2.0 authorization server's endpoints (oidc-provider) under /oauth. */
export async function openBadgesOAuthRoutes (_app: FastifyInstance): Promise<void> {}
