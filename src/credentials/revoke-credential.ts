import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { notFound } from '../errors.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { PublicUrls } from '../public-urls.js'
import { setStatusBit } from '../status-lists/service.js'
import { lockCredential, markRevoked } from './store.js'

export interface Revocation {
  id: string
  revokedAt: Date
  revokedBy: string
  reason: string
  /** False when this call revoked it; true when it already was (nothing changed). */
  alreadyRevoked: boolean
}

/**
 * Revokes a credential for good: sets its bit, re-signs the status list and
 * records who, when and why, in one transaction. Repeating the call returns
 * the first revocation and changes nothing. Locks are taken credential first,
 * then list, so concurrent revocations on one list queue instead of deadlocking.
 */
export async function revokeCredential (
  deps: { sql: Sql, keyRing: KeyRing, urls: PublicUrls, now: Date, actor: string },
  id: string,
  reason: string
): Promise<Revocation> {
  return await deps.sql.begin(async (tx) => {
    const credential = await lockCredential(tx, id)
    if (credential === undefined) throw notFound(`Credential "${id}"`)
    if (credential.revokedAt !== null) {
      return { id, revokedAt: credential.revokedAt, revokedBy: credential.revokedBy!, reason: credential.revocationReason!, alreadyRevoked: true }
    }
    await setStatusBit({ ...deps, sql: tx }, { listId: credential.statusListId, index: credential.statusIndex })
    await markRevoked(tx, id, { at: deps.now, by: deps.actor, reason })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'credential.revoked', subjectType: 'credential', subjectId: id, details: { reason } })
    return { id, revokedAt: deps.now, revokedBy: deps.actor, reason, alreadyRevoked: false }
  }) as Revocation
}
