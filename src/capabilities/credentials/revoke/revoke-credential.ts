import type { Sql } from 'postgres'
import { recordAuditEvent } from '../../audit/store.js'
import type { Db } from '../../../infrastructure/db/types.js'
import { notFound } from '../../../kernel/errors.js'
import type { KeyRing } from '../../keys/key-ring.js'
import { credentialEventData, type Outbox } from '../../../infrastructure/jobs/outbox.js'
import type { PublicUrls } from '../../../kernel/public-urls.js'
import { setStatusBit, type StatusListDeps } from '../../status-lists/service.js'
import { listLiveVersions, lockCredential, markRevoked, type VersionRow } from '../store.js'

export interface Revocation {
  id: string
  revokedAt: Date
  revokedBy: string
  reason: string
  /** False when this call revoked it; true when it already was (nothing changed). */
  alreadyRevoked: boolean
}

/**
 * Sets the status bit of each version, re-signing each list once per version,
 * in the caller's transaction. Lists are locked in a fixed order (list id,
 * then index) so concurrent callers queue instead of deadlocking.
 */
export async function setStatusBits (deps: { sql: Db, keyRing: KeyRing, urls: PublicUrls, now: Date } & Pick<StatusListDeps, 'dataIntegrity' | 'changes'>, versions: readonly VersionRow[]): Promise<void> {
  const ordered = [...versions].sort((a, b) => a.statusListId < b.statusListId ? -1 : a.statusListId > b.statusListId ? 1 : a.statusIndex - b.statusIndex)
  for (const version of ordered) {
    await setStatusBit(deps, { listId: version.statusListId, index: version.statusIndex })
  }
}

/**
 * Revokes a credential for good: sets the bit of every version still live,
 * re-signs their lists and records who, when and why, in one transaction.
 * Repeating the call returns the first revocation and changes nothing. Locks
 * are taken credential first, then lists, so concurrent revocations queue.
 */
export async function revokeCredential (
  deps: { sql: Sql, keyRing: KeyRing, urls: PublicUrls, now: Date, actor: string, outbox: Outbox, requestId?: string } & Pick<StatusListDeps, 'dataIntegrity' | 'changes'>,
  id: string,
  reason: string
): Promise<Revocation> {
  return await deps.sql.begin(async (tx) => {
    const credential = await lockCredential(tx, id)
    if (credential === undefined) throw notFound(`Credential "${id}"`)
    if (credential.revokedAt !== null) {
      return { id, revokedAt: credential.revokedAt, revokedBy: credential.revokedBy ?? '', reason: credential.revocationReason ?? '', alreadyRevoked: true }
    }
    const live = await listLiveVersions(tx, id)
    await setStatusBits({ ...deps, sql: tx }, live)
    await markRevoked(tx, id, { at: deps.now, by: deps.actor, reason }, deps.changes)
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'credential.revoked',
      subjectType: 'credential',
      subjectId: id,
      version: credential.currentVersion,
      reason,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      before: { revoked: false },
      after: { revoked: true, revokedVersions: live.map((v) => v.version) },
      details: { reason }
    })
    // The reason is staff's private note: receivers get the fact, not the words.
    await deps.outbox.record(tx, {
      type: 'credential.revoked',
      occurredAt: deps.now,
      data: credentialEventData(deps.urls, { credentialId: id, version: credential.currentVersion, achievementId: credential.achievementId, state: 'revoked', validUntil: credential.currentValidUntil }),
      notifyHolder: false
    })
    return { id, revokedAt: deps.now, revokedBy: deps.actor, reason, alreadyRevoked: false }
  }) as Revocation
}
