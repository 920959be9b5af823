import { randomBytes } from 'node:crypto'
import type { Sql } from 'postgres'
import { achievementDocument } from '../achievements/achievement-document.js'
import { findAchievement } from '../achievements/store.js'
import { recordAuditEvent } from '../audit/store.js'
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { embeddedIssuerProfile } from '../issuers/profile.js'
import { findIssuer } from '../issuers/store.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { PublicUrls } from '../public-urls.js'
import type { StatusListPolicy } from '../status-lists/policy.js'
import { claimStatusEntry } from '../status-lists/service.js'
import { countStatusEntry } from '../status-lists/store.js'
import { addMonths, toWholeSeconds } from '../time.js'
import { buildOpenBadgeCredential, normaliseEmail } from './build-credential.js'
import { validateOpenBadgeSchema } from './ob-schema.js'
import type { IssueCredentialBody } from './schemas.js'
import { signDataIntegrity, signJwt } from './sign.js'
import { insertBadge, insertCredential } from './store.js'

export interface IssueDeps {
  sql: Sql
  keyRing: KeyRing
  urls: PublicUrls
  now: Date
  actor: string
  statusLists: StatusListPolicy
}

export interface IssuedCredential {
  id: string
  url: string
  credential: Record<string, unknown>
  jwt: string
}

/** Works out validFrom/validUntil/awardedDate from the request and the achievement's validity. */
export function validityPeriod (body: Pick<IssueCredentialBody, 'validFrom' | 'validUntil' | 'awardedDate'>, validityMonths: number | null, now: Date): { validFrom: Date, validUntil?: Date, awardedDate: Date } {
  const validFrom = toWholeSeconds(body.validFrom !== undefined ? new Date(body.validFrom) : now)
  const validUntil = body.validUntil !== undefined
    ? toWholeSeconds(new Date(body.validUntil))
    : validityMonths !== null ? addMonths(validFrom, validityMonths) : undefined
  if (validUntil !== undefined && validUntil.getTime() <= validFrom.getTime()) {
    throw new AppError('invalid_validity_period', '"validUntil" must be after "validFrom".')
  }
  const awardedDate = body.awardedDate !== undefined ? toWholeSeconds(new Date(body.awardedDate)) : validFrom
  return { validFrom, ...(validUntil !== undefined ? { validUntil } : {}), awardedDate }
}

/**
 * Issues one OpenBadgeCredential in one transaction: claim a status index ->
 * build (pure) -> sign (Data Integrity, then VC-JWT of the same document) ->
 * check against the 1EdTech schema -> store the badge, the credential and an
 * audit event -> count the index on its list. A failure at any step rolls all
 * of it back: there is a complete, verifiable credential or nothing.
 */
export async function issueCredential (deps: IssueDeps, body: IssueCredentialBody): Promise<IssuedCredential> {
  const achievement = await findAchievement(deps.sql, body.achievementId)
  if (achievement === undefined) throw new AppError('unknown_achievement', `"achievementId" names no achievement: "${body.achievementId}".`)
  const issuer = (await findIssuer(deps.sql, achievement.issuerId))!
  const keys = deps.keyRing.signingKeys(issuer.id)
  if (keys === undefined) throw new AppError('service_unavailable', `No signing keys are configured for issuer "${issuer.id}".`)
  const period = validityPeriod(body, achievement.validityMonths, deps.now)

  const id = newId()
  const url = deps.urls.credential(id)
  return await deps.sql.begin(async (tx) => {
    const status = await claimStatusEntry({ ...deps, sql: tx }, deps.statusLists, issuer.id)
    const unsigned = buildOpenBadgeCredential({
      credentialUrl: url,
      issuerProfile: embeddedIssuerProfile(issuer, deps.urls) as Record<string, unknown> & { id: string },
      achievement: achievementDocument(achievement, issuer, deps.urls) as Record<string, unknown> & { name: string },
      recipient: body.recipient,
      identitySalt: randomBytes(16).toString('hex'),
      ...period,
      status: { listUrl: deps.urls.statusList(status.listId), index: status.index, purpose: 'revocation' }
    })
    const credential = await signDataIntegrity(unsigned, keys.dataIntegrity, deps.now)
    const jwt = await signJwt(unsigned, keys.jwt)
    const schema = validateOpenBadgeSchema(credential)
    if (!schema.valid) throw new Error(`Issued credential fails the 1EdTech schema: ${schema.errors.join('; ')}`)

    const badgeId = newId()
    await insertBadge(tx, { id: badgeId, issuerId: issuer.id, achievementId: achievement.id, recipientName: body.recipient.name, recipientEmail: normaliseEmail(body.recipient.email) })
    await insertCredential(tx, {
      id,
      badgeId,
      issuerId: issuer.id,
      achievementId: achievement.id,
      recipientName: body.recipient.name,
      recipientEmail: normaliseEmail(body.recipient.email),
      validFrom: period.validFrom,
      validUntil: period.validUntil ?? null,
      awardedDate: period.awardedDate,
      statusListId: status.listId,
      statusIndex: status.index,
      document: JSON.stringify(credential),
      jwt,
      signingKeyId: keys.dataIntegrity.keyId,
      jwtKeyId: keys.jwt.keyId,
      issuedAt: deps.now,
      issuedBy: deps.actor
    })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'credential.issued', subjectType: 'credential', subjectId: id, details: { achievementId: achievement.id, badgeId } })
    // Last: it locks the list's row until commit.
    await countStatusEntry(tx, status.listId)
    return { id, url, credential, jwt }
  }) as IssuedCredential
}
