import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { normaliseEmail } from '../credentials/build-credential.js'
import { issueCredentialIn, type IssueDeps, type IssuedCredential } from '../credentials/issue/issue-credential.js'
import { correctCredentialIn } from '../credentials/recertify/reissue-credential.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { newId } from '../../kernel/ids.js'
import { QUEUES, type JobQueue } from '../../infrastructure/jobs/job-queue.js'
import { isoSeconds } from '../../kernel/time.js'
import { sendPortalEmail, type PortalMailDeps } from './portal-email.js'
import { endSessionsOfPreviousAddress, findOrder, insertOrder, listCorrectionRequests, lockOrder, markApproved, markRejected, markRejectionEmailed, type OrderRow } from './store.js'

/**
 * The staff queue: badge orders (the public Digital Badge Order Form) and
 * correction requests (signed-in holders). Staff approve or reject each over
 * the API; approving runs the same issuing or correction path as the staff
 * credential routes, in the transaction that marks the order approved, so an
 * order is approved and its credential exists together or not at all.
 */

export interface BadgeOrderInput {
  name: string
  email: string
  certificateNumber: string
  certifiedOn: string
  note?: string
  /** The link of a badge already held (checked by evidenceUrlProblem), verified when staff read the order. */
  evidenceUrl?: string
}

export async function submitBadgeOrder (sql: Sql, now: Date, input: BadgeOrderInput): Promise<string> {
  const id = newId()
  await insertOrder(sql, { id, type: 'badge', name: input.name.trim(), email: normaliseEmail(input.email), certificateNumber: input.certificateNumber.trim(), certifiedOn: input.certifiedOn, consentedAt: now, note: input.note?.trim() || null, evidenceUrl: input.evidenceUrl?.trim() || null, createdAt: now })
  return id
}

export interface CorrectionInput {
  credential: { id: string, recipientName: string, recipientEmail: string }
  field: 'name' | 'email'
  value: string
  note?: string
}

/** A holder's correction request. One pending request per credential at a time: a second is refused with the first's id. */
export async function submitCorrectionRequest (sql: Sql, now: Date, input: CorrectionInput): Promise<{ id: string } | { pending: string }> {
  const pending = (await listCorrectionRequests(sql, [input.credential.id])).find((o) => o.state === 'pending')
  if (pending !== undefined) return { pending: pending.id }
  const id = newId()
  const value = input.field === 'email' ? normaliseEmail(input.value) : input.value.trim()
  await insertOrder(sql, { id, type: 'correction', name: input.credential.recipientName, email: input.credential.recipientEmail, credentialId: input.credential.id, correctionField: input.field, correctionValue: value, note: input.note?.trim() || null, createdAt: now })
  return { id }
}

export interface OrderDeps extends IssueDeps {
  jobs: JobQueue
}

/** What staff give when approving: for a badge order, the achievement and the certification period; for a correction, nothing required. */
export interface Approval {
  achievementId?: string
  validFrom?: string
  validUntil?: string
  awardedDate?: string
  /** Staff may fix the name as written on the form before issuing. */
  recipientName?: string
  note?: string
  notify?: boolean
}

export interface ApprovalResult {
  order: OrderRow
  /** Absent when the order had already been approved (approving twice issues once). */
  issued?: IssuedCredential
}

/** Approves a pending order: issues (badge) or corrects (correction) and marks it approved, in one transaction. */
export async function approveOrder (deps: OrderDeps, id: string, approval: Approval): Promise<ApprovalResult> {
  const issued = await deps.sql.begin(async (tx) => {
    const order = await lockOrder(tx, id)
    if (order === undefined) throw notFound(`Order "${id}"`)
    if (order.state === 'approved') return undefined
    if (order.state === 'rejected') throw new AppError('conflict', `Order "${id}" was rejected on ${isoSeconds(order.decidedAt ?? deps.now)}; a rejected order cannot be approved. Ask the requester to send a new one.`)
    let result: IssuedCredential
    let recorded: Record<string, unknown>
    if (order.type === 'badge') {
      if (approval.achievementId === undefined || approval.validFrom === undefined) {
        throw new AppError('validation_failed', 'Approving a badge order needs "achievementId" and "validFrom" (the start of the current certification period); "validUntil" defaults to the achievement\'s validity.')
      }
      recorded = {
        achievementId: approval.achievementId,
        validFrom: approval.validFrom,
        ...(approval.validUntil !== undefined ? { validUntil: approval.validUntil } : {}),
        ...(approval.awardedDate !== undefined ? { awardedDate: approval.awardedDate } : {}),
        ...(approval.recipientName !== undefined ? { recipientName: approval.recipientName } : {})
      }
      result = await issueCredentialIn(tx, deps, {
        achievementId: approval.achievementId,
        recipient: { name: approval.recipientName ?? order.name, email: order.email },
        validFrom: approval.validFrom,
        ...(approval.validUntil !== undefined ? { validUntil: approval.validUntil } : {}),
        ...(approval.awardedDate !== undefined ? { awardedDate: approval.awardedDate } : {}),
        ...(approval.notify !== undefined ? { notify: approval.notify } : {})
      })
    } else {
      const field = order.correctionField as 'name' | 'email'
      recorded = { [field]: order.correctionValue }
      result = await correctCredentialIn(tx, { ...deps, onRecipientEmailChanged: endSessionsOfPreviousAddress(deps.now) }, order.credentialId as string, {
        reason: 'correction',
        recipient: { [field]: order.correctionValue as string },
        note: approval.note ?? `correction requested by the holder (request ${id})`,
        ...(approval.notify !== undefined ? { notify: approval.notify } : {})
      })
    }
    await markApproved(tx, id, { at: deps.now, by: deps.actor, approval: recorded, credentialId: result.id, version: result.version })
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'order.approved',
      subjectType: 'order',
      subjectId: id,
      version: result.version,
      ...(approval.note !== undefined ? { reason: approval.note } : {}),
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      after: { state: 'approved', type: order.type, credentialId: result.id, version: result.version },
      details: recorded
    })
    return result
  }) as IssuedCredential | undefined
  const order = await findOrder(deps.sql, id) as OrderRow
  return issued === undefined ? { order } : { order, issued }
}

/** Rejects a pending order and queues the email that tells the requester why. Rejecting a rejected order again changes nothing. */
export async function rejectOrder (deps: OrderDeps, id: string, reason: string): Promise<OrderRow> {
  await deps.sql.begin(async (tx) => {
    const order = await lockOrder(tx, id)
    if (order === undefined) throw notFound(`Order "${id}"`)
    if (order.state === 'rejected') return
    if (order.state === 'approved') throw new AppError('conflict', `Order "${id}" was approved on ${isoSeconds(order.decidedAt ?? deps.now)}; revoke or correct the credential instead.`)
    await markRejected(tx, id, { at: deps.now, by: deps.actor, reason })
    await recordAuditEvent(tx, {
      actor: deps.actor,
      action: 'order.rejected',
      subjectType: 'order',
      subjectId: id,
      reason,
      ...(deps.requestId !== undefined ? { requestId: deps.requestId } : {}),
      after: { state: 'rejected', type: order.type }
    })
    await deps.jobs.add(tx, QUEUES.portalEmail, { orderId: id })
  })
  return await findOrder(deps.sql, id) as OrderRow
}

/** The job of the rejection email (at most once per order: the row records it). */
export async function sendRejectionEmail (deps: PortalMailDeps & { sql: Sql, clock: () => Date }, orderId: string): Promise<'sent' | 'nothing to do'> {
  const order = await findOrder(deps.sql, orderId)
  if (order?.state !== 'rejected' || order.rejectionEmailedAt !== null) return 'nothing to do'
  const request = order.type === 'badge'
    ? `a digital badge for certificate or member number ${order.certificateNumber ?? ''}`
    : `a correction of the ${order.correctionField ?? 'details'} on your badge to "${order.correctionValue ?? ''}"`
  await sendPortalEmail(deps, 'order-rejected', order.email, `order-${order.id}-rejected`, { holderName: order.name, request, reason: order.rejectionReason ?? '' })
  await markRejectionEmailed(deps.sql, order.id, deps.clock())
  return 'sent'
}
