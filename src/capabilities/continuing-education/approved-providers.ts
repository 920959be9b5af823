import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { findAchievement } from '../achievements/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { insertApprovedProvider, listApprovedProviders, removeApprovedProvider, type ApprovedProviderRow } from './store.js'

/**
 * The providers whose continuing education counts as "approved" for an
 * achievement (for the CMA (AAMA): AAMA-approved CEUs), as data staff keep.
 * A provider is named by the issuer id or DID its verifiable CE credentials
 * carry; an activity is approved only when it comes from one of them.
 */

export interface ProviderAdminDeps { sql: Sql, now: Date, actor: string, requestId?: string }

export async function approvedProvidersOf (sql: Sql, achievementId: string): Promise<ApprovedProviderRow[]> {
  if (await findAchievement(sql, achievementId) === undefined) throw notFound(`Achievement "${achievementId}"`)
  return await listApprovedProviders(sql, achievementId)
}

/** Adds a provider to the achievement's list; one already listed is a 409 naming the entry. */
export async function addApprovedProvider (deps: ProviderAdminDeps, achievementId: string, input: { providerId: string, name: string }): Promise<ApprovedProviderRow> {
  return await deps.sql.begin(async (tx) => {
    if (await findAchievement(tx, achievementId) === undefined) throw notFound(`Achievement "${achievementId}"`)
    const providerId = input.providerId.trim()
    const row = await insertApprovedProvider(tx, { id: newId(), achievementId, providerId, name: input.name.trim(), addedAt: deps.now, addedBy: deps.actor })
    if (row === undefined) {
      const existing = (await listApprovedProviders(tx, achievementId)).find((p) => p.providerId === providerId)
      throw new AppError('conflict', `"${providerId}" is already an approved provider of achievement "${achievementId}"${existing === undefined ? '' : ` (entry ${existing.id})`}.`, existing === undefined ? {} : { existing: { id: existing.id, url: `/api/v1/achievements/${achievementId}/approved-providers` } })
    }
    await recordAuditEvent(tx, { actor: deps.actor, action: 'approved_provider.added', subjectType: 'achievement', subjectId: achievementId, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), after: { id: row.id, providerId: row.providerId, name: row.name } })
    return row
  }) as ApprovedProviderRow
}

/** Removes one; activities already recorded as approved keep their category (they were approved when recorded). */
export async function withdrawApprovedProvider (deps: ProviderAdminDeps, achievementId: string, id: string): Promise<ApprovedProviderRow> {
  return await deps.sql.begin(async (tx) => {
    const removed = await removeApprovedProvider(tx, achievementId, id, { at: deps.now, actor: deps.actor })
    if (removed === undefined) throw notFound(`Approved provider "${id}" of achievement "${achievementId}"`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'approved_provider.removed', subjectType: 'achievement', subjectId: achievementId, ...(deps.requestId === undefined ? {} : { requestId: deps.requestId }), before: { id: removed.id, providerId: removed.providerId, name: removed.name } })
    return removed
  }) as ApprovedProviderRow
}

/** Same spelling rule as the CE credential reader: exact, with a trailing slash on a URL ignored. */
export const sameProvider = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '')
