import helmet from 'helmet'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { AppError, sendProblem } from '../../kernel/errors.js'

/**
 * What faces the internet: security headers on every response, CORS only on
 * public reads and verification (never the staff API), per-route rate
 * limits, and load shedding (503 with Retry-After when the event loop is
 * saturated, instead of queueing without bound).
 */
export async function installHardening (app: FastifyInstance): Promise<void> {
  // helmet itself, built once: @fastify/helmet rebuilds its middleware (and
  // re-parses the CSP) on every request, 4% of a cached GET's CPU.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], imgSrc: ["'self'", 'data:', 'https:'], styleSrc: ["'self'"], formAction: ["'self'"], baseUri: ["'none'"], frameAncestors: ["'none'"] }
    },
    // Badge images and status lists are meant to be loaded from other sites (email signatures, verifiers).
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false
  })
  app.addHook('onRequest', (request, reply, done) => { securityHeaders(request.raw, reply.raw, (error?: unknown) => { done(error as Error | undefined) }) })

  installCors(app)

  await app.register(rateLimit, {
    global: false,
    // Thrown, so the error handler renders it as problem+json (429, too_many_requests).
    errorResponseBuilder: (_request, context) => new AppError('too_many_requests', `Too many requests: at most ${context.max} per ${context.after}. Try again in ${Math.ceil(context.ttl / 1000)} s.`)
  })

  // Event-loop delay, not utilisation: signing and PDF drawing legitimately keep
  // the loop busy; a loop that cannot answer within seconds is what to shed.
  await app.register(underPressure, {
    maxEventLoopDelay: app.config.maxEventLoopDelayMs,
    retryAfter: 5,
    pressureHandler: (_request, reply, type, value) => {
      void reply.header('Retry-After', '5')
      sendProblem(reply, 'service_unavailable', `The service is overloaded (${type}: ${String(value)}); try again in a few seconds.`)
    }
  })
}

/** The rate limit of a public route, for its `config`. */
export const perMinute = (max: number): { rateLimit: { max: number, timeWindow: number } } => ({ rateLimit: { max, timeWindow: 60_000 } })

/** What every public answer says: any origin may read it (nothing public depends on who asks). */
const PUBLIC_CORS_HEADERS = Object.freeze({ 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag, Location, Retry-After' })
const PREFLIGHT_HEADERS = Object.freeze({ 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-max-age': '600', 'content-length': '0' })

/**
 * CORS on public reads and verification, never on the staff API (`/api/`),
 * with headers fixed once: @fastify/cors with a per-request delegator
 * rebuilt and merged its options on every request, and added
 * `Vary: Origin` to answers that do not depend on the origin. Preflights
 * answer 204 as @fastify/cors did (strict: an Origin and a requested
 * method); a staff API preflight reaches the catch-all OPTIONS route, which
 * answers 404.
 */
function installCors (app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.url.startsWith('/api/')) { done(); return }
    void reply.headers(PUBLIC_CORS_HEADERS)
    if (request.raw.method !== 'OPTIONS') { done(); return }
    if (request.headers.origin === undefined || request.headers['access-control-request-method'] === undefined) {
      void reply.status(400).type('text/plain').send('Invalid Preflight Request')
      return
    }
    const requested = request.headers['access-control-request-headers']
    void reply.headers(PREFLIGHT_HEADERS).header('vary', 'Access-Control-Request-Headers')
    if (requested !== undefined) void reply.header('access-control-allow-headers', requested)
    void reply.code(204).send()
  })
  // Lets a preflight reach the hook above for every path; what it does not answer (the staff API) is not found.
  app.options('*', { schema: { hide: true } }, async (_request, reply) => { reply.callNotFound() })
}
