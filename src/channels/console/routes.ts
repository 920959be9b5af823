import type { FastifyInstance } from 'fastify'

/** The staff console (issue 25). */
export async function consoleRoutes (_app: FastifyInstance, _options: { cookieSecret: string }): Promise<void> {}
