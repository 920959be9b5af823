import type { Sql } from 'postgres'
import { findAchievement, type AchievementRow } from '../../achievements/store.js'
import { achievementArchivedError } from '../../achievements/archive-achievement.js'
import { recordAuditEvents, type AuditEvent } from '../../audit/store.js'
import type { Db } from '../../../infrastructure/db/types.js'
import { AppError } from '../../../kernel/errors.js'
import { newId } from '../../../kernel/ids.js'
import { findIssuer, type IssuerRow } from '../../issuers/store.js'
import { claimStatusEntries, type StatusEntry } from '../../status-lists/service.js'
import { countStatusEntries } from '../../status-lists/store.js'
import { addMonths, toWholeSeconds } from '../../../kernel/time.js'
import { normaliseEmail } from '../build-credential.js'
import { prepareVersion, signingKeysOf, type VersionDeps } from '../create-version.js'
import type { IssueCredentialBody } from '../schemas.js'
import type { PublicUrls } from '../../../kernel/public-urls.js'
import { findHeldCredentials, insertBadges, insertCredentials, insertVersions, lockRecipientAchievements, subjectIdsFor } from '../store.js'

/** What issuing needs: what every version needs, the pool for its transactions and the request it answers. */
export interface IssueDeps extends VersionDeps {
  sql: Sql
  requestId?: string
}

export interface IssuedCredential {
  id: string
  url: string
  version: number
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
 * Issues one OpenBadgeCredential (version 1 of a new credential URL) in one
 * transaction: refuse a duplicate -> store the badge and the credential ->
 * create the signed version -> audit -> count the status entry. A failure at
 * any step rolls all of it back: there is a complete, verifiable credential
 * or nothing.
 */
export async function issueCredential (deps: IssueDeps, body: IssueCredentialBody): Promise<IssuedCredential> {
  return await deps.sql.begin(async (tx) => await issueCredentialIn(tx, deps, body)) as IssuedCredential
}

/**
 * The same, in the caller's transaction (an approved badge order issues the
 * credential and marks the order approved together). One credential is a
 * batch of one: issueCredentialsIn below holds the steps.
 */
export async function issueCredentialIn (tx: Db, deps: IssueDeps, body: IssueCredentialBody): Promise<IssuedCredential> {
  const [outcome] = await issueCredentialsIn(tx, deps, [body])
  if (outcome === undefined || outcome instanceof AppError) throw outcome ?? new Error('No outcome for the credential.')
  return outcome
}

/** Each item's outcome, in input order: the issued credential, or why that item was refused. */
export type IssueOutcome = IssuedCredential | AppError

interface Accepted {
  position: number
  body: IssueCredentialBody
  email: string
  achievement: AchievementRow
  issuer: IssuerRow
  period: ReturnType<typeof validityPeriod>
  id: string
  badgeId: string
}

/**
 * Whether a request can be issued now, by the checks every issue makes, in
 * order: the achievement exists and is not archived, the period is valid,
 * the holder holds no current credential of it (`heldId`). The refusal, or
 * the achievement and the period. Shared by issuing and by the console's
 * CSV preview (previewBatch), which runs it without issuing.
 */
export function judgeIssueRequest (body: IssueCredentialBody, achievement: AchievementRow | undefined, heldId: string | undefined, deps: { now: Date, urls: PublicUrls }): AppError | { achievement: AchievementRow, period: ReturnType<typeof validityPeriod> } {
  if (achievement === undefined) return new AppError('unknown_achievement', `"achievementId" names no achievement: "${body.achievementId}".`)
  if (achievement.archivedAt !== null) return achievementArchivedError(achievement, 'new credentials')
  let period: ReturnType<typeof validityPeriod>
  try {
    period = validityPeriod(body, achievement.validityMonths, deps.now)
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    return error
  }
  if (heldId !== undefined) {
    const existing = deps.urls.credential(heldId)
    return new AppError('duplicate_credential', `${body.recipient.email} already holds a current "${achievement.name}" credential: ${existing}. Reissue or recertify it instead of issuing another.`, { existing: { id: heldId, url: existing } })
  }
  return { achievement, period }
}

/**
 * Issues many credentials in the caller's transaction with the same checks and
 * rows as issueCredentialIn, but a handful of statements in all instead of
 * about ten per credential (a statement costs this service more CPU than
 * signing a JWT): lock every recipient-achievement pair and look for held
 * credentials at once -> claim the status entries at once -> sign each (Data
 * Integrity on the worker threads, all in flight together) -> insert badges,
 * credentials, versions, events, jobs and audit events as multi-row
 * statements, pipelined -> count the status entries last.
 *
 * An item refused for its own reason (unknown or archived achievement, a held credential,
 * the same holder twice in the batch, a bad period) is answered with its
 * AppError and the others go on. Any other error throws: the caller rolls the
 * transaction back and may issue the items one by one.
 */
export async function issueCredentialsIn (tx: Db, deps: IssueDeps, bodies: readonly IssueCredentialBody[]): Promise<IssueOutcome[]> {
  const outcomes: IssueOutcome[] = new Array(bodies.length)
  const pairs = bodies.map((body) => ({ achievementId: body.achievementId, email: normaliseEmail(body.recipient.email) }))
  const achievementIds = [...new Set(bodies.map((body) => body.achievementId))]
  // Pipelined, run in order: the held-credential check after the locks are taken.
  const [achievementRows, , held] = await Promise.all([
    Promise.all(achievementIds.map(async (id) => await findAchievement(tx, id))),
    lockRecipientAchievements(tx, pairs),
    findHeldCredentials(tx, pairs, deps.now)
  ])
  const achievements = new Map(achievementRows.flatMap((row) => row === undefined ? [] : [[row.id, row] as const]))
  const issuerIds = [...new Set([...achievements.values()].map((a) => a.issuerId))]
  const issuers = new Map((await Promise.all(issuerIds.map(async (id) => await findIssuer(tx, id)))).flatMap((row) => row === undefined ? [] : [[row.id, row] as const]))
  const holding = new Map(held.map((row) => [`${row.achievementId} ${row.email}`, row.id]))

  const accepted: Accepted[] = []
  bodies.forEach((body, position) => {
    const { email } = pairs[position] as { email: string }
    const key = `${body.achievementId} ${email}`
    const judged = judgeIssueRequest(body, achievements.get(body.achievementId), holding.get(key), deps)
    if (judged instanceof AppError) {
      outcomes[position] = judged
      return
    }
    const { achievement, period } = judged
    const issuer = issuers.get(achievement.issuerId)
    if (issuer === undefined) throw new Error(`Achievement "${achievement.id}" names a missing issuer "${achievement.issuerId}".`)
    const id = newId()
    // A later item for the same holder and achievement meets this one as the held credential.
    holding.set(key, id)
    accepted.push({ position, body, email, achievement, issuer, period, id, badgeId: newId() })
  })
  if (accepted.length === 0) return outcomes

  // Status entries, per issuer, in one or two statements each.
  const entries = new Map<Accepted, StatusEntry>()
  const uncounted: Array<[string, number]> = []
  for (const issuerId of new Set(accepted.map((a) => a.issuer.id))) {
    const mine = accepted.filter((a) => a.issuer.id === issuerId)
    signingKeysOf(deps.keyRing, issuerId) // before claiming status entries
    const claim = await claimStatusEntries({ sql: tx, keyRing: deps.keyRing, urls: deps.urls, now: deps.now, dataIntegrity: deps.dataIntegrity }, deps.statusLists, issuerId, mine.length)
    mine.forEach((a, i) => { entries.set(a, claim.entries[i] as StatusEntry) })
    uncounted.push(...claim.uncounted)
  }

  const subjectIds = await subjectIdsFor(tx, accepted.map((a) => a.email))
  const prepared = await Promise.all(accepted.map(async (a) => await prepareVersion(deps, {
    credentialId: a.id,
    issuer: a.issuer,
    achievement: a.achievement,
    recipient: a.body.recipient,
    subjectId: subjectIds.get(a.email) as string,
    ...a.period,
    version: 1,
    kind: 'issue',
    reason: null,
    notifyHolder: a.body.notify !== false
  }, entries.get(a) as StatusEntry)))

  const audits: AuditEvent[] = accepted.map((a) => ({
    actor: deps.actor,
    action: 'credential.issued',
    subjectType: 'credential',
    subjectId: a.id,
    version: 1,
    ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
    after: { achievementId: a.achievement.id, recipientName: a.body.recipient.name, recipientEmail: a.email, validFrom: a.period.validFrom.toISOString(), validUntil: a.period.validUntil?.toISOString() ?? null },
    details: { badgeId: a.badgeId }
  }))
  // Sent together, run in order (each row's references come before it).
  await Promise.all([
    insertBadges(tx, accepted.map((a) => ({ id: a.badgeId, issuerId: a.issuer.id, achievementId: a.achievement.id, recipientName: a.body.recipient.name, recipientEmail: a.email }))),
    insertCredentials(tx, accepted.map((a) => ({ id: a.id, badgeId: a.badgeId, issuerId: a.issuer.id, achievementId: a.achievement.id, recipientName: a.body.recipient.name, recipientEmail: a.email, awardedDate: a.period.awardedDate, validUntil: a.period.validUntil ?? null, issuedAt: deps.now, issuedBy: deps.actor, certificateNumber: a.body.certificateNumber?.trim() ?? null }))),
    insertVersions(tx, prepared.map((p) => p.row)),
    deps.outbox.recordMany(tx, prepared.map((p) => p.event)),
    recordAuditEvents(tx, audits)
  ])
  // Last: these lock the lists' rows until commit.
  await Promise.all(uncounted.map(async ([listId, count]) => { await countStatusEntries(tx, listId, count) }))

  accepted.forEach((a, i) => {
    const p = prepared[i] as (typeof prepared)[number]
    outcomes[a.position] = { id: a.id, url: deps.urls.credential(a.id), version: 1, credential: p.credential, jwt: p.jwt }
  })
  return outcomes
}
