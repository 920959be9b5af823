import { createHash } from 'node:crypto'
import type { SessionStore } from '@fastify/session'
import type { Sql } from 'postgres'
import type { Clock } from '../../kernel/time.js'
import { endSession, findSession, saveSession } from './store.js'

declare module 'fastify' {
  interface Session {
    /** The address the holder signed in with (normalised): they see the credentials issued to it. */
    email?: string
    signedInAt?: string
  }
}

export const hashSessionId = (sessionId: string): Buffer => createHash('sha256').update(sessionId, 'utf8').digest()

/**
 * @fastify/session's store over PostgreSQL, so that sessions live on the
 * server and can be ended (sign-out, an email correction), and every instance
 * sees the same sessions. A session expires `hours` after sign-in on the
 * service's clock; the row is keyed by the SHA-256 of the session id.
 */
export function postgresSessionStore (sql: Sql, clock: Clock, hours: number): SessionStore {
  return {
    set (sessionId, session, callback) {
      const email = session.email
      // Only signed-in sessions are kept (nothing else is stored in a session).
      if (email === undefined) { callback(); return }
      const now = clock()
      const data = JSON.parse(JSON.stringify(session)) as unknown
      saveSession(sql, { idHash: hashSessionId(sessionId), email, data, now, expiresAt: new Date(new Date(session.signedInAt ?? now).getTime() + hours * 3600_000) })
        .then(() => { callback() }, callback)
    },
    get (sessionId, callback) {
      findSession(sql, hashSessionId(sessionId), clock())
        .then((data) => { callback(null, (data ?? null) as never) }, callback)
    },
    destroy (sessionId, callback) {
      endSession(sql, hashSessionId(sessionId), clock()).then(() => { callback() }, callback)
    }
  }
}
