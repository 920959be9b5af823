import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import session from '@fastify/session'
import type { FastifyInstance } from 'fastify'
import { serviceSecret } from '../db/service-secrets.js'
import { postgresSessionStore } from './session-store.js'

export const SESSION_COOKIE = 'tessera_session'
export const CSRF_COOKIE = 'tessera_csrf'

/**
 * Cookies, holder sessions and CSRF protection, for the whole app (the
 * credential page needs the session too: a holder sees their own private
 * page). Cookies are signed with a secret the service keeps in its database,
 * so every instance accepts every other's. HttpOnly, SameSite=Lax, and Secure
 * whenever the request came over https (behind a proxy: TRUST_PROXY).
 * Sessions are only stored once someone signs in; the CSRF secret lives in
 * its own signed cookie, so the public forms need no session.
 */
export async function installPortalSessions (app: FastifyInstance): Promise<void> {
  const secret = (await serviceSecret(app.sql, 'portal-cookies')).toString('base64url')
  const hours = app.config.portal.sessionHours
  await app.register(cookie, { secret })
  await app.register(session, {
    secret,
    cookieName: SESSION_COOKIE,
    store: postgresSessionStore(app.sql, app.clock, hours),
    saveUninitialized: false,
    rolling: false,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: hours * 3600_000 }
  })
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true }
  })
}
