import type { Sql } from 'postgres'
import { recordAuditEvent } from '../../audit/store.js'
import { findCredential } from '../../credentials/store.js'
import { QUEUES, type JobQueue } from '../../../infrastructure/jobs/job-queue.js'
import { AppError, notFound } from '../../../kernel/errors.js'
import { EMAIL_FOR_EVENT } from './send-email.js'
import { requeueBadgeEmail } from './store.js'

/**
 * Sends the holder the email of their credential's current version again
 * (staff's "resend": a lost or filtered email). The version's own event is
 * used, whether or not it was emailed the first time (issued with notify:
 * false, or re-signed); its row goes back to pending with one more resend,
 * and an email job is added, all in one transaction, audited.
 */
export async function resendCredentialEmail (deps: { sql: Sql, jobs: Pick<JobQueue, 'add'>, now: Date, actor: string, requestId?: string }, credentialId: string): Promise<void> {
  await deps.sql.begin(async (tx) => {
    const credential = await findCredential(tx, credentialId)
    if (credential === undefined) throw notFound(`The credential ${credentialId}`)
    if (credential.revokedAt !== null) throw new AppError('credential_revoked', 'The credential is revoked: no badge email goes for it.')
    const kinds = Object.fromEntries(['credential.issued', 'credential.recertified', 'credential.reissued'].map((type) => [type, EMAIL_FOR_EVENT[type as keyof typeof EMAIL_FOR_EVENT]!]))
    const eventId = await requeueBadgeEmail(tx, { credentialId, version: credential.currentVersion, kinds })
    if (eventId === undefined) throw new AppError('conflict', `Version ${credential.currentVersion} has no event to email about.`)
    await deps.jobs.add(tx, QUEUES.email, { eventId })
    await recordAuditEvent(tx, { actor: deps.actor, action: 'credential.email_resent', subjectType: 'credential', subjectId: credentialId, version: credential.currentVersion, ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}), details: { event: eventId, to: credential.recipientEmail } })
  })
}
