import type { Sql } from 'postgres'
import { announceChange, type ChangeAnnouncer } from '../../infrastructure/caching/change-feed.js'
import type { Db } from '../../infrastructure/db/types.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { recordAuditEvent, recordAuditEvents, type AuditEvent } from '../audit/store.js'
import { RECOGNISED_ISSUERS_CHANGED } from './lookup.js'
import { canonicalOrigin, issuerIdProblem, type Matcher } from './matching.js'
import { findCurrentEntry, findEntry, findRemovedIssuerIds, insertEntry, insertSeedEntries, markRemoved, type RecognisedIssuerRow } from './store.js'

export interface RegistryDeps {
  sql: Sql
  /** The staff principal (API key id) making the change. */
  actor: string
  now: Date
  requestId?: string
  /** The app's change feed, so its own cache drops the registry at once; other instances hear the NOTIFY. */
  changes?: ChangeAnnouncer
}

/** The actor of entries added from TRUSTED_ISSUERS at boot. */
export const CONFIG_ACTOR = 'config'

/** The public form of an entry: exactly one of `issuerId` and `origin` is set. */
export function recognisedIssuerResource (row: RecognisedIssuerRow): Record<string, unknown> {
  return {
    id: row.id,
    issuerId: row.kind === 'issuer-id' ? row.matcher : null,
    origin: row.kind === 'origin' ? row.matcher : null,
    name: row.name,
    note: row.note,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    removedAt: row.removedAt?.toISOString() ?? null,
    removedBy: row.removedBy
  }
}

const summary = (row: RecognisedIssuerRow): Record<string, unknown> =>
  ({ [row.kind === 'issuer-id' ? 'issuerId' : 'origin']: row.matcher, name: row.name, note: row.note })

const auditOf = (row: RecognisedIssuerRow, action: string, actor: string, extra: Partial<AuditEvent> = {}): AuditEvent =>
  ({ actor, action, subjectType: 'recognised_issuer', subjectId: row.id, ...extra })

/** The matcher a request asks for: exactly one of "issuerId" and "origin", each checked by its rule (matching.ts). */
export function matcherOf (input: { issuerId?: string, origin?: string }): Matcher {
  if ((input.issuerId === undefined) === (input.origin === undefined)) {
    throw new AppError('validation_failed', 'Send exactly one of "issuerId" (one issuer, exactly) or "origin" (every issuer id under an https origin).')
  }
  if (input.issuerId !== undefined) {
    const problem = issuerIdProblem(input.issuerId)
    if (problem !== undefined) throw new AppError('validation_failed', `"issuerId" ${problem}.`)
    return { kind: 'issuer-id', value: input.issuerId }
  }
  const origin = canonicalOrigin(input.origin!)
  if ('problem' in origin) throw new AppError('validation_failed', `"origin" ${origin.problem}.`)
  return { kind: 'origin', value: origin.origin }
}

/** Adds an entry; a current entry with the same matcher is a 409 naming it. */
export async function addRecognisedIssuer (deps: RegistryDeps, input: { issuerId?: string, origin?: string, name: string, note?: string }): Promise<RecognisedIssuerRow> {
  const matcher = matcherOf(input)
  const name = input.name.trim()
  const note = input.note?.trim() ?? ''
  if (name === '') throw new AppError('validation_failed', '"name" must not be blank: it is what the verify page shows the issuer as.')
  return await deps.sql.begin(async (tx) => {
    const row = await insertEntry(tx, { id: newId(), kind: matcher.kind, matcher: matcher.value, name, note: note === '' ? null : note, createdAt: deps.now, createdBy: deps.actor })
    if (row === undefined) {
      const existing = await findCurrentEntry(tx, matcher.kind, matcher.value)
      const field = matcher.kind === 'issuer-id' ? 'issuerId' : 'origin'
      throw new AppError('issuer_already_recognised', `"${field}" "${matcher.value}" is already recognised, as "${existing?.name ?? '?'}" (entry ${existing?.id ?? '?'}); remove that entry first to change it.`, existing === undefined ? {} : { existing: { id: existing.id, url: `/api/v1/registry/issuers/${existing.id}` } })
    }
    await recordAuditEvent(tx, auditOf(row, 'recognised_issuer.added', deps.actor, { after: summary(row), ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) }))
    await announceChange(tx, RECOGNISED_ISSUERS_CHANGED, deps.changes)
    return row
  }) as RecognisedIssuerRow
}

/** Removes an entry (soft: it stays readable, with who removed it and when); removing twice is a 409. */
export async function removeRecognisedIssuer (deps: RegistryDeps, id: string): Promise<RecognisedIssuerRow> {
  return await deps.sql.begin(async (tx) => {
    const row = await markRemoved(tx, id, deps.now, deps.actor)
    if (row === undefined) {
      const entry = await findEntry(tx, id)
      if (entry === undefined) throw notFound(`Recognised issuer "${id}"`)
      throw new AppError('conflict', `Recognised issuer "${id}" was already removed on ${entry.removedAt?.toISOString() ?? '?'} by ${entry.removedBy ?? '?'}.`)
    }
    await recordAuditEvent(tx, auditOf(row, 'recognised_issuer.removed', deps.actor, { before: summary(row), ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}) }))
    await announceChange(tx, RECOGNISED_ISSUERS_CHANGED, deps.changes)
    return row
  }) as RecognisedIssuerRow
}

/**
 * TRUSTED_ISSUERS as a seed: each listed id never yet in the registry is
 * added (actor `config`, audited), in one transaction that is safe to run
 * from two instances at once. An id staff removed stays removed: the
 * registry, not the setting, is the authority once an id is in it.
 */
export async function seedRecognisedIssuers (sql: Sql, issuerIds: readonly string[]): Promise<{ added: RecognisedIssuerRow[], keptRemoved: RecognisedIssuerRow[] }> {
  const ids = [...new Set(issuerIds)]
  for (const id of ids) {
    const problem = issuerIdProblem(id)
    if (problem !== undefined) throw new Error(`"TRUSTED_ISSUERS" ${problem}.`)
  }
  if (ids.length === 0) return { added: [], keptRemoved: [] }
  const added = await sql.begin(async (tx: Db) => {
    const rows = await insertSeedEntries(tx, ids.map((issuerId) => ({ id: newId(), issuerId, name: issuerId, note: 'Added from the TRUSTED_ISSUERS setting at boot.' })), CONFIG_ACTOR)
    await recordAuditEvents(tx, rows.map((row) => auditOf(row, 'recognised_issuer.added', CONFIG_ACTOR, { after: summary(row), details: { source: 'TRUSTED_ISSUERS' } })))
    if (rows.length > 0) await announceChange(tx, RECOGNISED_ISSUERS_CHANGED)
    return rows
  }) as RecognisedIssuerRow[]
  return { added, keptRemoved: await findRemovedIssuerIds(sql, ids) }
}
