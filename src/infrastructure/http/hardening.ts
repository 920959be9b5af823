import cors from '@fastify/cors'
import helmet from 'helmet'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
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

  await app.register(cors, {
    delegator: (request: FastifyRequest, callback) => {
      const staff = (request.url ?? '').startsWith('/api/')
      callback(null, staff ? { origin: false } : { origin: '*', methods: ['GET', 'HEAD', 'POST'], maxAge: 600, exposedHeaders: ['ETag', 'Location', 'Retry-After'] })
    }
  })

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
