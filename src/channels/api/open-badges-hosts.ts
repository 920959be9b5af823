import type { FastifyInstance } from 'fastify'

/** Staff: connect the issuer to another Open Badges 3.0 Host and push credentials there (the Service Consumer). */
export async function openBadgesHostStaffRoutes (_app: FastifyInstance): Promise<void> {}

/** The browser's return from another Host's authorization (public: the state names the pending connection). */
export async function openBadgesHostCallbackRoutes (_app: FastifyInstance): Promise<void> {}
