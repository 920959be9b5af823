import { findAchievement } from '../../achievements/store.js'
import { findCredential, findVersion } from '../../credentials/store.js'
import { shareLinks } from '../../presentation/share-links.js'
import { longDate } from '../../../infrastructure/web/dates.js'
import { findIssuer } from '../../issuers/store.js'
import { renewalAdvice } from '../../achievements/renewal-advice.js'
import { normaliseEmail } from '../../credentials/build-credential.js'
import type { NotificationDeps } from '../deps.js'
import { findEvent, type EventType } from '../../../infrastructure/jobs/outbox.js'
import { unsubscribeToken } from '../unsubscribe.js'
import { claimAccountInstructions, markEmailSent } from './store.js'
import { continuingEducationInWords, renderEmail, type EmailData, type EmailKind } from './templates.js'
import { formatPoints, loadCeRecord, progressInWords } from '../../continuing-education/progress.js'
import { createWalletOffer } from '../../wallets/offers.js'
import { AppError } from '../../../kernel/errors.js'

/** The email each event calls for (revocations are told to staff systems, not emailed). */
export const EMAIL_FOR_EVENT: Partial<Record<EventType, EmailKind>> = {
  'credential.issued': 'issued',
  'credential.recertified': 'renewed',
  'credential.reissued': 'corrected',
  'credential.expiry_reminder': 'reminder',
  'credential.expired': 'expired',
  // An approval's email is the new version's ('credential.recertified': renewed).
  'recertification.applied': 'application-received',
  'recertification.rejected': 'application-rejected'
}

const DAY_MS = 86_400_000

/** The emails that deliver a badge, and so may carry the account instructions (reminders and notices do not). */
const DELIVERS_A_BADGE: ReadonlySet<EmailKind> = new Set(['issued', 'renewed', 'corrected'])
/** The emails that say where the holder stands in continuing education, while that way is open. */
const SHOWS_CE_PROGRESS: ReadonlySet<EmailKind> = new Set(['reminder', 'expired', 'application-received', 'application-rejected'])

/**
 * Sends the email of one event, once: the email_notifications row is pending
 * until sent or skipped. Checked at send time, not when the event was made:
 * nothing goes for a revoked credential or a version no longer current (a
 * recertification thus cancels the prior version's pending reminders), and no
 * reminder to a holder who unsubscribed (the application emails are
 * transactional: they go regardless; a "received" email whose application
 * was approved before it went is skipped, the new version's "renewed" email
 * saying more). A failure throws, and the job is
 * retried with backoff; the Message-ID is the event's, so a rare resend after
 * a crash mid-send is recognisably the same message.
 */
export async function sendEventEmail (deps: NotificationDeps, eventId: string): Promise<'sent' | 'skipped' | 'nothing to do'> {
  const { sql } = deps
  // The reads are sent together where one does not need another's answer (three round trips, not six).
  const [[pending], event] = await Promise.all([
    sql<Array<{ kind: EmailKind, resends: number }>>`select kind, resends from email_notifications where event_id = ${eventId} and state = 'pending'`,
    findEvent(sql, eventId)
  ])
  if (pending === undefined) return 'nothing to do'
  const [credential, version] = event !== undefined ? await Promise.all([findCredential(sql, event.credentialId), findVersion(sql, event.credentialId, event.version)]) : []
  if (event === undefined || credential === undefined) return await skip(deps, eventId, 'the event or its credential is gone')
  if (credential.revokedAt !== null) return await skip(deps, eventId, 'the credential is revoked')
  if (event.version !== credential.currentVersion) return await skip(deps, eventId, `version ${event.version} was followed by version ${credential.currentVersion}`)
  const now = deps.clock()
  const scheduled = pending.kind === 'reminder' || pending.kind === 'expired'
  if (scheduled && credential.remindersOptedOutAt !== null) return await skip(deps, eventId, 'the holder unsubscribed from reminders')
  const [achievement, issuer] = await Promise.all([findAchievement(sql, credential.achievementId), findIssuer(sql, credential.issuerId)])
  if (version === undefined || achievement === undefined || issuer === undefined) return await skip(deps, eventId, 'the version, achievement or issuer is gone')
  if (pending.kind === 'reminder' && (version.validUntil === null || version.validUntil.getTime() <= now.getTime())) return await skip(deps, eventId, 'the credential has expired since the reminder was due')
  if (pending.kind === 'expired' && (version.validUntil === null || version.validUntil.getTime() > now.getTime())) return await skip(deps, eventId, 'the credential is not expired')

  const credentialUrl = deps.urls.credential(credential.id)
  const validUntil = version.validUntil
  // The same answer the badge's page gives today: the email words it, never re-derives it.
  const advice = renewalAdvice({ policy: achievement.recertification, validUntil, now })
  const links = shareLinks({
    credentialUrl,
    credentialId: credential.id,
    achievementName: achievement.name,
    issuerName: issuer.name,
    ...(deps.config.branding.linkedInOrganizationId !== undefined ? { linkedInOrganizationId: deps.config.branding.linkedInOrganizationId } : {}),
    issued: (credential.awardedDate ?? version.validFrom).toISOString(),
    ...(validUntil !== null ? { expires: validUntil.toISOString() } : {})
  })
  const ceProgress = SHOWS_CE_PROGRESS.has(pending.kind) && advice.continuingEducationUntil !== undefined
    ? await continuingEducationStanding(deps, credential.id, now)
    : null
  const application: EmailData['application'] = event.data.points === undefined
    ? null
    : {
        points: formatPoints(event.data.points.total),
        approvedPoints: event.data.points.approved > 0 || (achievement.recertification?.continuingEducation?.minApprovedPoints ?? 0) > 0 ? formatPoints(event.data.points.approved) : null,
        reason: pending.kind === 'application-rejected' ? event.data.reason ?? null : null
      }
  const unsubscribeUrl = scheduled ? `${deps.urls.base}/notifications/unsubscribe/${credential.id}?token=${await unsubscribeToken(sql, credential.id)}` : null
  const to = normaliseEmail(version.recipientEmail)
  // Claimed after every reason to skip is behind us, so a skipped email never holds them.
  const [accountInstructions, wallet] = DELIVERS_A_BADGE.has(pending.kind)
    ? await Promise.all([claimAccountInstructions(sql, { email: to, eventId, now }), emailWalletOffer(deps, { credentialId: credential.id, holderEmail: to, now })])
    : [false, null]
  const rendered = await renderEmail(pending.kind, issuer.id, {
    holderName: version.recipientName,
    achievementName: achievement.name,
    issuerName: issuer.name,
    credentialUrl,
    verifyUrl: `${deps.urls.base}/verify`,
    accountUrl: `${deps.urls.base}/account`,
    linkedInAddToProfileUrl: links.linkedInAddToProfile,
    validUntil: longDate(validUntil) ?? null,
    expired: advice.state === 'in_grace' || advice.state === 'lapsed',
    daysLeft: validUntil !== null ? Math.max(0, Math.ceil((validUntil.getTime() - now.getTime()) / DAY_MS)) : null,
    renewal: advice.sentence ?? null,
    continuingEducation: advice.continuingEducationUntil !== undefined ? continuingEducationInWords(achievement.recertification) : null,
    ceProgress,
    application,
    unsubscribeUrl,
    accountInstructions,
    wallet,
    primaryColor: deps.config.branding.primaryColor,
    accentColor: deps.config.branding.accentColor
  }, deps.config.notifications.emailTemplatesDir)
  // A resend is a new message to mail services (they drop a Message-ID seen before).
  const messageId = `<${eventId}${pending.resends > 0 ? `.resend${pending.resends}` : ''}@${new URL(deps.urls.base).hostname}>`
  const sent = await deps.mailer.send({
    to,
    ...rendered,
    messageId,
    // RFC 8058 one-click unsubscribe for reminders; issue emails are transactional.
    ...(unsubscribeUrl !== null ? { headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } } : {})
  })
  await markEmailSent(sql, { eventId, messageId, now })
  // Never the address: the event and credential ids say which email it was.
  deps.log.info({ eventId, credentialId: credential.id, kind: pending.kind, accountInstructions, walletOffer: wallet !== null, delivered: sent.delivered, ...(sent.delivered === 'file' ? { file: sent.where } : {}) }, 'email sent')
  return 'sent'
}

/**
 * The wallet offer an email that delivers a badge carries: made when the
 * email is rendered (each send, a resend included, has its own offer: a
 * token is kept only as its hash, so an earlier one cannot be shown again),
 * single-use, for OFFER_LIFETIME_MS.email, with an OID4VCI transaction code
 * the email states in its text. The badge's hourly limit of offers leaves the
 * email without one rather than holding the email back.
 */
async function emailWalletOffer (deps: NotificationDeps, request: { credentialId: string, holderEmail: string, now: Date }): Promise<EmailData['wallet']> {
  try {
    const offer = await createWalletOffer({ sql: deps.sql, now: request.now, baseUrl: deps.urls.base, actor: 'notifications' }, { credentialId: request.credentialId, holderEmail: request.holderEmail, channel: 'email', revoked: false })
    const expires = `${longDate(offer.expiresAt) ?? ''} at ${offer.expiresAt.toISOString().slice(11, 16)} UTC`
    return { url: offer.urls.interaction, txCode: offer.txCode ?? '', expires }
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'too_many_requests') throw error
    deps.log.warn({ credentialId: request.credentialId }, 'email sent without a wallet offer: the badge\'s hourly limit of offers is reached')
    return null
  }
}

/** The holder's continuing-education record in one line, its deadline and its page (the portal's). */
async function continuingEducationStanding (deps: NotificationDeps, credentialId: string, now: Date): Promise<EmailData['ceProgress']> {
  const record = await loadCeRecord(deps.sql, credentialId, now)
  const deadline = longDate(record.progress.deadline)
  if (!record.progress.offered || deadline === undefined) return null
  return {
    summary: progressInWords(record.progress),
    deadline,
    url: `${deps.urls.base}/account/badges/${credentialId}/continuing-education`,
    pending: record.pending !== undefined
  }
}

async function skip (deps: NotificationDeps, eventId: string, reason: string): Promise<'skipped'> {
  await deps.sql`update email_notifications set state = 'skipped', skip_reason = ${reason} where event_id = ${eventId} and state = 'pending'`
  deps.log.info({ eventId, reason }, 'email skipped')
  return 'skipped'
}
