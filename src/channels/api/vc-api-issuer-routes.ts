import type { FastifyInstance } from 'fastify'

/** (stub: filled in by issue 27's work) */
export async function vcApiIssuerRoutes (fastify: FastifyInstance): Promise<void> {
  void fastify
}
