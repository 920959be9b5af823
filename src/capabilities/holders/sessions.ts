import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import session from '@fastify/session'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Sql } from 'postgres'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import type { Clock } from '../../kernel/time.js'
import { hashSessionId, postgresSessionStore } from './session-store.js'
import { findSession } from './store.js'

export const SESSION_COOKIE = 'tessera_session'
export const CSRF_COOKIE = 'tessera_csrf'

/**
 * Cookies and CSRF protection, for the whole app: @fastify/cookie, signing
 * with a secret the service keeps in its database (every instance accepts
 * every other's), and @fastify/csrf-protection keeping its secret in its own
 * signed cookie, so the public forms need no session. Both are HttpOnly,
 * SameSite=Lax, and Secure whenever the request came over https (behind a
 * proxy: TRUST_PROXY).
 */
export async function installCookies (app: FastifyInstance): Promise<string> {
  const secret = (await serviceSecret(app.sql, 'portal-cookies')).toString('base64url')
  await app.register(cookie, { secret })
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true }
  })
  return secret
}

/**
 * Holder sessions (@fastify/session, stored in PostgreSQL), for the portal's
 * routes only: every other route (the hot public reads) skips the session
 * machinery. Only stored once someone signs in.
 */
export async function installSessions (app: FastifyInstance, secret: string): Promise<void> {
  const hours = app.config.portal.sessionHours
  await app.register(session, {
    secret,
    cookieName: SESSION_COOKIE,
    store: postgresSessionStore(app.sql, app.clock, hours),
    saveUninitialized: false,
    rolling: false,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: hours * 3600_000 }
  })
}

/**
 * The address signed in with, on a route outside the portal (a holder looking
 * at their own private badge page): the session cookie checked as
 * @fastify/session signs it, and the session read from the store.
 */
export async function signedInEmail (request: FastifyRequest, sql: Sql, clock: Clock): Promise<string | undefined> {
  const raw = request.cookies[SESSION_COOKIE]
  if (raw === undefined) return undefined
  const unsigned = request.unsignCookie(raw)
  if (!unsigned.valid || unsigned.value === null) return undefined
  const data = await findSession(sql, hashSessionId(unsigned.value), clock()) as { email?: unknown } | undefined
  return typeof data?.email === 'string' ? data.email : undefined
}
