import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { bodyOf, problems } from '../../infrastructure/http/common-schemas.js'
import type { Metrics } from '../../infrastructure/observability/metrics.js'
import { AppError } from '../../kernel/errors.js'

/**
 * Who may read /metrics on this listener: holders of the bearer token
 * (METRICS_TOKEN), anyone (development without a token, and the separate
 * METRICS_PORT listener, which only the deployment's network reaches), or no
 * one here (the metrics are served on METRICS_PORT instead).
 */
export type MetricsAccess = { token: string } | 'open' | 'elsewhere'

/** What /metrics needs: one app's metrics, or (METRICS_PORT in a cluster) every process's, aggregated by the primary. */
export type MetricsSource = Pick<Metrics, 'exposition' | 'contentType'>

export interface MetricsRouteOptions {
  metrics: MetricsSource
  access: MetricsAccess
  /** On the separate listener: no shared Problem schema there, and no problem to answer. */
  bare?: boolean
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Compares through digests of equal length, so the time taken says nothing of the token. */
function sameToken (presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected))
}

export async function metricsRoutes (app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { metrics, access, bare = false } = options
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (bearer METRICS_TOKEN, or on METRICS_PORT)',
      tags: [TAG.operations],
      response: {
        200: bodyOf('The Prometheus text exposition (version 0.0.4)', ['text/plain'], { type: 'string', description: 'Prometheus text format' }),
        ...(bare ? {} : problems([401, 'No bearer token, or not METRICS_TOKEN'], [404, 'Metrics are served on METRICS_PORT, not here']))
      }
    }
  }, async (request, reply) => {
    if (access === 'elsewhere') throw new AppError('not_found', 'Metrics are served on the metrics port (METRICS_PORT), not here.')
    if (access !== 'open') {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
      if (match === null) throw new AppError('unauthorized', 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>".')
      if (!sameToken(match[1]!, access.token)) throw new AppError('unauthorized', 'The metrics token is not valid.')
    }
    const body = await metrics.exposition()
    return await reply.header('Cache-Control', 'no-store').type(metrics.contentType).send(body)
  })
}

/** The main listener's access from the settings: the token when there is one; else on METRICS_PORT, or open (development). */
export function metricsAccess (settings: { token: string | undefined, port: number | undefined }): MetricsAccess {
  if (settings.token !== undefined) return { token: settings.token }
  return settings.port !== undefined ? 'elsewhere' : 'open'
}

/**
 * The separate metrics listener (METRICS_PORT): GET /metrics alone, without a
 * token, for a port only the deployment's network reaches. server.ts listens with it.
 */
export async function metricsListener (metrics: MetricsSource): Promise<FastifyInstance> {
  const listener = Fastify({ logger: false })
  await listener.register(metricsRoutes, { metrics, access: 'open', bare: true })
  return listener
}
