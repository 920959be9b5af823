import type { FastifyInstance } from 'fastify'

/** A holder sends one of their badges to an Open Badges 3.0 Host they name. */
export async function sendToHostRoutes (_app: FastifyInstance): Promise<void> {}
