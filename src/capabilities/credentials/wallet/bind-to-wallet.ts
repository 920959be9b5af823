import { recordAuditEvent } from '../../audit/store.js'
import type { Db } from '../../../infrastructure/db/types.js'
import { countStatusEntry } from '../../status-lists/store.js'
import { createVersion } from '../create-version.js'
import type { IssuedCredential } from '../issue/issue-credential.js'
import { lockForNewVersion, type ReissueDeps } from '../recertify/reissue-credential.js'
import { setCurrentVersion } from '../store.js'

/**
 * Binds a credential to the DID a holder's wallet proved it controls (DID
 * authentication or an OID4VCI proof of possession): a new version, same id and
 * URL, whose credentialSubject.id is that DID, with the current version's
 * period and recipient. It becomes the current version, and later versions
 * (recertification, correction) keep the DID as their subject.
 *
 * The holder's other copies (the file they downloaded, a baked image, a
 * wallet bound earlier) are not superseded: they say nothing untrue, so
 * they keep verifying, with a notice that a newer version is current. A
 * wallet that proves the DID the current version already names receives that
 * version again: no new version.
 *
 * Revoked credentials are refused (422 credential_revoked); an expired one is
 * delivered as it is (it verifies expired, and the holder may still keep it).
 */
export async function bindToWalletIn (tx: Db, deps: ReissueDeps, id: string, binding: { did: string, protocol: 'vcapi' | 'oid4vci', offerId: string }): Promise<IssuedCredential & { bound: boolean }> {
  const { credential, current, achievement, issuer } = await lockForNewVersion(tx, id)
  if (current.subjectId === binding.did) {
    return { id, url: deps.urls.credential(id), version: current.version, credential: JSON.parse(current.document) as Record<string, unknown>, jwt: current.jwt, bound: false }
  }
  const version = credential.currentVersion + 1
  const recipient = { name: credential.recipientName, email: credential.recipientEmail }
  const signed = await createVersion(tx, deps, {
    credentialId: id,
    issuer,
    achievement,
    recipient,
    subjectId: binding.did,
    validFrom: current.validFrom,
    ...(current.validUntil !== null ? { validUntil: current.validUntil } : {}),
    awardedDate: credential.awardedDate ?? current.validFrom,
    version,
    kind: 'wallet',
    reason: `delivered to a wallet (${binding.protocol})`,
    notifyHolder: false
  })
  await setCurrentVersion(tx, id, { version, recipientName: recipient.name, recipientEmail: recipient.email, validUntil: current.validUntil }, deps.changes)
  await recordAuditEvent(tx, {
    actor: deps.actor,
    action: 'credential.bound_to_wallet',
    subjectType: 'credential',
    subjectId: id,
    version,
    reason: `delivered to a wallet (${binding.protocol})`,
    before: { version: current.version, subjectId: current.subjectId },
    after: { version, subjectId: binding.did },
    details: { protocol: binding.protocol, offerId: binding.offerId }
  })
  await countStatusEntry(tx, signed.statusListId)
  return { id, url: deps.urls.credential(id), version, credential: signed.credential, jwt: signed.jwt, bound: true }
}
