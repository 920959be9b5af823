import { addMonths } from '../../kernel/time.js'

/**
 * The certifying body's recertification rules, as data on the achievement.
 * CMA (AAMA): { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }.
 * No policy at all means recertification by exam only.
 */
export interface RecertificationPolicy {
  continuingEducation?: {
    /** Points needed in all. */
    minPoints: number
    /** Of which at least this many from the body's approved CEUs (0 when there is no such rule). */
    minApprovedPoints?: number
    /** How long after expiry continuing education is still accepted (0: only before expiry). */
    graceMonths?: number
  }
  /** Whether passing the exam again recertifies (default true). */
  exam?: boolean
}

export type RecertificationRequest =
  | { method: 'exam' }
  | { method: 'continuing-education', points: { total: number, approved: number } }

export type RecertificationDecision =
  | { allowed: true, validFrom: Date, validUntil: Date }
  | { allowed: false, rule: string, message: string }

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })

const refuse = (rule: string, message: string): RecertificationDecision => ({ allowed: false, rule, message })

/**
 * Decides a recertification and its new period (pure: the clock comes in).
 * Before expiry the new version is valid at once and runs to the old
 * validUntil plus the validity period, so no time is lost; after expiry the
 * period runs from the recertification date.
 */
export function decideRecertification (input: {
  policy: RecertificationPolicy | null
  validityMonths: number | null
  currentValidUntil: Date | null
  request: RecertificationRequest
  now: Date
}): RecertificationDecision {
  const { policy, validityMonths, currentValidUntil, request, now } = input
  if (validityMonths === null || currentValidUntil === null) {
    return refuse('no_expiry', 'This credential does not expire, so there is nothing to recertify.')
  }
  if (request.method === 'exam') {
    if (policy?.exam === false) return refuse('exam_not_accepted', 'This achievement is not recertified by exam; recertify by continuing education.')
  } else {
    const ce = policy?.continuingEducation
    if (ce === undefined) return refuse('continuing_education_not_accepted', 'This achievement is recertified by exam only.')
    const { total, approved } = request.points
    if (approved > total) return refuse('points_inconsistent', `"points.approved" (${approved}) cannot be more than "points.total" (${total}).`)
    if (total < ce.minPoints) return refuse('min_points', `Recertification by continuing education needs at least ${ce.minPoints} points; ${total} given.`)
    const minApproved = ce.minApprovedPoints ?? 0
    if (approved < minApproved) return refuse('min_approved_points', `Recertification by continuing education needs at least ${minApproved} points from approved continuing education; ${approved} given.`)
    const graceMonths = ce.graceMonths ?? 0
    const deadline = addMonths(currentValidUntil, graceMonths)
    if (now.getTime() > deadline.getTime()) {
      const allowance = graceMonths === 0 ? 'only until the credential expires' : `until ${graceMonths} month${graceMonths === 1 ? '' : 's'} after expiry`
      const byExam = policy?.exam === false ? '' : '; recertify by exam'
      return refuse('grace_period_over', `Continuing education is allowed ${allowance} (${DATE.format(deadline)})${byExam}.`)
    }
  }
  const beforeExpiry = now.getTime() < currentValidUntil.getTime()
  return {
    allowed: true,
    validFrom: now,
    validUntil: addMonths(beforeExpiry ? currentValidUntil : now, validityMonths)
  }
}
