import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Sql } from 'postgres'
import { AppError } from '../../kernel/errors.js'
import { findApiKey, touchApiKey } from './store.js'

/** Who a staff request is (recorded in the audit trail: the key's id and name) and what it may do. */
export interface StaffPrincipal {
  /** The API key's id ("bootstrap" for ADMIN_API_KEY), or "staff:<id>" for a staff user signed in to the console. */
  actor: string
  name: string
  scopes: readonly string[]
}

/** Every scope a staff route can require. The bootstrap key holds all of them. */
export const SCOPES = [
  'achievements:read', 'achievements:write',
  'credentials:read', 'credentials:issue', 'credentials:reissue', 'credentials:revoke',
  'audit:read', 'keys:admin', 'orders:admin', 'webhooks:admin', 'registry:admin',
  'continuing-education:write', 'recertification:review', 'staff:admin'
] as const
export type Scope = typeof SCOPES[number]

export const BOOTSTRAP_KEY_ID = 'bootstrap'

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffPrincipal
  }
  interface FastifyContextConfig {
    /** The scope a staff route requires; every staff route declares one (test/route-auth.test.ts). */
    scope?: Scope
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/**
 * Compares keys in constant time: both sides are hashed first, so neither the
 * content nor the length of the configured key leaks through timing.
 */
export function keysMatch (presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected))
}

/** "tsk_" + a 12-character id (visible, to recognise a leaked key) + "_" + a 256-bit secret. */
const KEY_FORMAT = /^tsk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/

export function newApiKey (): { id: string, key: string, secretHash: Buffer } {
  const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12)
  const secret = randomBytes(32).toString('base64url')
  return { id, key: `tsk_${id}_${secret}`, secretHash: digest(secret) }
}

/** The visible part of a key, safe to log or show: "tsk_<id>". */
export const keyPrefix = (id: string): string => `tsk_${id}`

async function authenticate (presented: string, deps: { sql: Sql, adminApiKey: string | undefined, now: () => Date }): Promise<StaffPrincipal> {
  if (deps.adminApiKey !== undefined && keysMatch(presented, deps.adminApiKey)) {
    return { actor: BOOTSTRAP_KEY_ID, name: 'ADMIN_API_KEY (bootstrap)', scopes: SCOPES }
  }
  const match = KEY_FORMAT.exec(presented)
  const row = match === null ? undefined : await findApiKey(deps.sql, match[1]!)
  if (match === null || row?.secretHash == null || !timingSafeEqual(digest(match[2]!), row.secretHash)) {
    throw new AppError('unauthorized', 'The API key is not valid.')
  }
  if (row.revokedAt !== null) throw new AppError('unauthorized', `The API key ${keyPrefix(row.id)} was revoked on ${row.revokedAt.toISOString()}.`)
  if (row.expiresAt !== null && row.expiresAt.getTime() <= deps.now().getTime()) throw new AppError('unauthorized', `The API key ${keyPrefix(row.id)} expired on ${row.expiresAt.toISOString()}.`)
  await touchApiKey(deps.sql, row.id).catch(() => {}) // best effort: a missed last-used time is not worth failing the request
  return { actor: row.id, name: row.name, scopes: row.scopes }
}

/**
 * Requires `Authorization: Bearer <key>` on every route of the scope it is
 * registered in, then the scope the route declares in `config.scope`. A
 * route that declares none is refused (fail closed). Keys are the bootstrap
 * ADMIN_API_KEY or scoped keys made with `npm run admin -- api-keys create`
 * or POST /api/v1/api-keys.
 */
export function installBearerAuth (app: FastifyInstance, adminApiKey: string | undefined): void {
  const failures = failedAuthLimiter(app)
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    failures.refuseIfBlocked(request, reply)
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)\s*$/i.exec(header)
    try {
      if (match === null) throw new AppError('unauthorized', 'Send a staff API key as "Authorization: Bearer <key>".')
      request.staff = await authenticate(match[1]!, { sql: app.sql, adminApiKey, now: app.clock })
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') await failures.count(request)
      throw error
    }
    // Before the body is even parsed: a key without the scope learns nothing from validation errors.
    const scope = request.routeOptions.config.scope
    if (scope === undefined) throw new AppError('forbidden', `${request.method} ${request.routeOptions.url ?? request.url} declares no scope, so no key may use it.`)
    if (request.staff?.scopes.includes(scope) !== true) throw new AppError('forbidden', `This API key lacks the "${scope}" scope.`)
  })
}

/**
 * Counts failed authentications per client IP (@fastify/rate-limit's
 * counter, fed only by failures) and refuses every staff request from an IP
 * over the limit with 429 until its window ends, so keys cannot be guessed
 * and a leaked prefix cannot be brute-forced.
 */
function failedAuthLimiter (app: FastifyInstance): { count: (request: FastifyRequest) => Promise<void>, refuseIfBlocked: (request: FastifyRequest, reply: FastifyReply) => void } {
  const limit = app.createRateLimit({ max: app.config.rateLimits.failedAuthPerMinute, timeWindow: 60_000, keyGenerator: (request) => `staff-auth:${request.ip}` })
  const blockedUntil = new Map<string, number>()
  return {
    count: async (request) => {
      const outcome = await limit(request)
      if (outcome.isAllowed || !outcome.isExceeded) return
      if (blockedUntil.size > 10_000) for (const [ip, until] of blockedUntil) if (until <= Date.now()) blockedUntil.delete(ip)
      blockedUntil.set(request.ip, Date.now() + outcome.ttl)
    },
    refuseIfBlocked: (request, reply) => {
      const until = blockedUntil.get(request.ip)
      if (until === undefined) return
      if (until <= Date.now()) {
        blockedUntil.delete(request.ip)
        return
      }
      void reply.header('Retry-After', String(Math.ceil((until - Date.now()) / 1000)))
      throw new AppError('too_many_requests', 'Too many failed authentications from this address; try again later.')
    }
  }
}

/** The authenticated principal; routes behind installBearerAuth always have one. */
export function staffOf (request: FastifyRequest): StaffPrincipal {
  if (request.staff === undefined) throw new AppError('unauthorized', 'Authentication required.')
  return request.staff
}
