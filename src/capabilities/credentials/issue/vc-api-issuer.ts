import { achievementDocument } from '../../achievements/achievement-document.js'
import { findAchievement } from '../../achievements/store.js'
import { embeddedIssuerProfile } from '../../issuers/profile.js'
import { findIssuer } from '../../issuers/store.js'
import { AppError, notFound } from '../../../kernel/errors.js'
import { revokeCredential } from '../revoke/revoke-credential.js'
import { findCredential, findSignedVersion } from '../store.js'
import { issueCredential, type IssueDeps, type IssuedCredential } from './issue-credential.js'
import { withExactDates } from './issue-dates.js'
import { checkNamedEntry, isServiceIssueRequest, openBadgeIssueRequest, readStatusRequest, requestedAchievementId, serviceIssueRequest, type SignedStatusEntry, type VcApiCredential, type VcApiIssueBody, type VcApiStatusBody } from './vc-api-request.js'

/**
 * The W3C VC API issuer's two operations, on the service's own use cases:
 * issuing goes through issueCredential (the same status list, storage,
 * audit, events and checks as POST /api/v1/credentials), a status change
 * through revokeCredential. The requests are read in vc-api-request.ts.
 */

/** Issues what a VC API IssueCredentialRequest asks for: the service's own issue request, or an Open Badges credential mapped onto one. */
export async function issueThroughVcApi (deps: IssueDeps, body: VcApiIssueBody): Promise<IssuedCredential> {
  const { options } = body
  const credential = body.credential as VcApiCredential // as vcApiIssueBody validated it
  if (isServiceIssueRequest(credential)) return await issueCredential(deps, withExactDates(serviceIssueRequest(credential, options)))
  const achievementId = requestedAchievementId(credential, deps.urls.base)
  const achievement = await findAchievement(deps.sql, achievementId)
  const issuer = achievement === undefined ? undefined : await findIssuer(deps.sql, achievement.issuerId)
  if (achievement === undefined || issuer === undefined) {
    throw new AppError('unknown_achievement', `"credential.credentialSubject.achievement.id" names no achievement of this service: "${credential.credentialSubject.achievement.id}".`, { errors: [{ in: 'body', path: '/credential/credentialSubject/achievement/id', message: 'no such achievement' }] })
  }
  const request = openBadgeIssueRequest(credential, options, {
    achievementId,
    achievement: achievementDocument(achievement, issuer, deps.urls),
    issuer: embeddedIssuerProfile(issuer, deps.urls) as Record<string, unknown> & { id: string }
  })
  return await issueCredential(deps, request)
}

/** What a status update answers: the credential, its status entry with the status it now has, and when it was revoked. */
export interface StatusUpdate {
  credentialId: string
  credentialStatus: Array<SignedStatusEntry & { status: boolean }>
  revokedAt: string | null
  /** False when the credential already had the status asked for. */
  changed: boolean
}

/**
 * Sets a credential's revocation status as a VC API UpdateCredentialStatus
 * asks: true revokes it (every live version, through the status list); false
 * is accepted only while it is not revoked, as nothing to do, since the
 * service's revocations are permanent (409 credential_revoked otherwise).
 */
export async function updateStatusThroughVcApi (deps: Parameters<typeof revokeCredential>[0], body: VcApiStatusBody): Promise<StatusUpdate> {
  const asked = readStatusRequest(body, deps.urls.base)
  const [row, current] = await Promise.all([findCredential(deps.sql, asked.id), findSignedVersion(deps.sql, asked.id)])
  if (row === undefined || current === undefined) throw notFound(`Credential "${body.credentialId}"`)
  const entry = (JSON.parse(current.document) as { credentialStatus: SignedStatusEntry }).credentialStatus
  checkNamedEntry(asked.entry, entry, Array.isArray(body.credentialStatus))
  const answer = (status: boolean, revokedAt: Date | null, changed: boolean): StatusUpdate => ({
    credentialId: deps.urls.credential(asked.id),
    credentialStatus: [{ id: entry.id, type: entry.type, statusPurpose: entry.statusPurpose, statusListIndex: entry.statusListIndex, statusListCredential: entry.statusListCredential, status }],
    revokedAt: revokedAt?.toISOString() ?? null,
    changed
  })
  if (!asked.status) {
    if (row.revokedAt !== null) {
      throw new AppError('credential_revoked', `Credential "${body.credentialId}" was revoked on ${row.revokedAt.toISOString()}, and revocation is permanent: the service does not clear a status bit once set. Issue a new credential instead.`)
    }
    return answer(false, null, false)
  }
  const revocation = await revokeCredential(deps, asked.id, asked.reason)
  return answer(true, revocation.revokedAt, !revocation.alreadyRevoked)
}
