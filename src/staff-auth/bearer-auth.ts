import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'

/** What a staff request is allowed to do, and who it is (recorded in the audit trail). */
export interface StaffPrincipal {
  actor: string
  scopes: readonly string[]
}

/** The scopes staff routes require. The bootstrap admin key holds all of them. */
export const SCOPES = ['achievements:read', 'achievements:write', 'credentials:read', 'credentials:issue', 'credentials:revoke', 'audit:read'] as const
export type Scope = typeof SCOPES[number]

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffPrincipal
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

/**
 * Requires `Authorization: Bearer <key>` on every route of the scope it is
 * registered in. Only the bootstrap ADMIN_API_KEY exists for now; when it is
 * not configured, every staff call is refused.
 */
export function installBearerAuth (app: FastifyInstance, adminApiKey: string | undefined): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)\s*$/i.exec(header)
    if (match === null) {
      throw new AppError('unauthorized', 'Send a staff API key as "Authorization: Bearer <key>".')
    }
    if (adminApiKey === undefined || !keysMatch(match[1]!, adminApiKey)) {
      throw new AppError('unauthorized', 'The API key is not valid.')
    }
    request.staff = { actor: 'admin', scopes: SCOPES }
  })
}

/** A preHandler that refuses a staff request lacking `scope`. */
export function requireScope (scope: Scope) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.staff?.scopes.includes(scope) !== true) {
      throw new AppError('forbidden', `This API key lacks the "${scope}" scope.`)
    }
  }
}

/** The authenticated principal; routes behind installBearerAuth always have one. */
export function staffOf (request: FastifyRequest): StaffPrincipal {
  if (request.staff === undefined) throw new AppError('unauthorized', 'Authentication required.')
  return request.staff
}
