import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { BOOTSTRAP_KEY_ID, keyPrefix, newApiKey, type Scope } from './bearer-auth.js'
import { insertApiKey, listApiKeys, revokeApiKey, type ApiKeyRow } from './store.js'

/** A key as staff see it: never the secret or its hash. */
export function apiKeyResource (row: ApiKeyRow): Record<string, unknown> {
  return {
    id: row.id,
    prefix: row.id === BOOTSTRAP_KEY_ID ? null : keyPrefix(row.id),
    name: row.name,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy
  }
}

export interface KeyAdminDeps { sql: Sql, actor: string, now: Date, requestId?: string }

/** Creates a scoped key; the secret is returned this once and only its hash is kept. */
export async function createApiKey (deps: KeyAdminDeps, input: { name: string, scopes: readonly Scope[], expiresAt?: Date }): Promise<{ key: string, row: ApiKeyRow }> {
  if (input.expiresAt !== undefined && input.expiresAt.getTime() <= deps.now.getTime()) throw new AppError('validation_failed', '"expiresAt" must be in the future.')
  const made = newApiKey()
  const row = await deps.sql.begin(async (tx) => {
    const inserted = await insertApiKey(tx, { id: made.id, name: input.name, secretHash: made.secretHash, scopes: [...new Set(input.scopes)], createdBy: deps.actor, expiresAt: input.expiresAt ?? null })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'api_key.created', subjectType: 'api_key', subjectId: made.id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), after: { name: input.name, scopes: inserted.scopes, expiresAt: inserted.expiresAt?.toISOString() ?? null } })
    return inserted
  }) as ApiKeyRow
  return { key: made.key, row }
}

export async function revokeStaffKey (deps: KeyAdminDeps, id: string): Promise<ApiKeyRow> {
  if (id === BOOTSTRAP_KEY_ID) throw new AppError('conflict', 'The bootstrap key lives in ADMIN_API_KEY: remove or change it there.')
  return await deps.sql.begin(async (tx) => {
    const row = await revokeApiKey(tx, id, deps.actor, deps.now)
    if (row === undefined) throw notFound(`API key "${id}"`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'api_key.revoked', subjectType: 'api_key', subjectId: id, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), after: { revokedAt: row.revokedAt?.toISOString() ?? null } })
    return row
  }) as ApiKeyRow
}

export { listApiKeys }
