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
    /**
     * Which activities count: 'certification_period' (the only window, and the
     * default) counts those completed from the current version's validFrom up
     * to the day of the application.
     */
    window?: 'certification_period'
  }
  /** Whether passing the exam again recertifies (default true). */
  exam?: boolean
  /** The body's renewal fee, recorded and shown; the service takes no payment. */
  renewalFee?: { amount: number, currency: string, reference?: string }
}

export type RecertificationRequest =
  | { method: 'exam' }
  | {
    method: 'continuing-education'
    points: { total: number, approved: number }
    /**
     * When the holder applied, if they did: the grace period is judged at that
     * moment, so an application made in time and reviewed later still counts.
     */
    appliedAt?: Date
  }

export type RecertificationDecision =
  | { allowed: true, validFrom: Date, validUntil: Date }
  | { allowed: false, rule: string, message: string }

/**
 * The last moment continuing education is accepted: the end (23:59:59 UTC)
 * of the day `graceMonths` after validUntil. Whole days, because every page,
 * email and PDF words the deadline as a day ("apply by 4 January 2027"): the
 * day printed is a day on which an application is still accepted.
 */
export function continuingEducationDeadline (validUntil: Date, graceMonths: number): Date {
  const day = addMonths(validUntil, graceMonths)
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 23, 59, 59))
}

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
    const deadline = continuingEducationDeadline(currentValidUntil, graceMonths)
    if ((request.appliedAt ?? now).getTime() > deadline.getTime()) {
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

/** One continuing-education activity, as the rules see it. */
export interface ActivityFacts {
  id: string
  /** The completion day, YYYY-MM-DD (UTC). */
  completedOn: string
  points: number
  category: 'approved' | 'other'
}

export interface ContinuingEducationProgress {
  /** Whether the rules accept continuing education at all. */
  offered: boolean
  required: { points: number, approvedPoints: number }
  /** Points of the activities that count (in the window). */
  earned: { points: number, approvedPoints: number }
  /** What is still missing (0 when met). */
  missing: { points: number, approvedPoints: number }
  /** The days whose activities count, inclusive (YYYY-MM-DD); absent when nothing can count. */
  window?: { from: string, until: string }
  /** Ids of the activities that count, and of those that do not (completed outside the window). */
  counted: string[]
  outsideWindow: string[]
  /** The credential's validUntil, and the last moment continuing education is accepted (validUntil + grace). */
  validUntil?: Date
  deadline?: Date
  /** Whether an application made now would be accepted; otherwise why not, in the rules' own words. */
  canApply: boolean
  refusal?: { rule: string, message: string }
}

const day = (date: Date): string => date.toISOString().slice(0, 10)
/** Points are kept to two decimals; sums are made in hundredths so 0.1 + 0.2 is 0.3. */
const hundredths = (points: number): number => Math.round(points * 100)

/**
 * Where a holder stands toward recertification by continuing education: the
 * activities that count (completed within the current certification period:
 * from the version's validFrom to today, never after the deadline), their
 * points and approved points, what is missing, the deadline, and whether an
 * application would be accepted now. The last answer is
 * `decideRecertification`'s own, fed the counted points: the progress shown
 * and the decision on approval cannot disagree.
 */
export function continuingEducationProgress (input: {
  policy: RecertificationPolicy | null
  validityMonths: number | null
  period: { validFrom: Date, validUntil: Date | null }
  activities: readonly ActivityFacts[]
  now: Date
}): ContinuingEducationProgress {
  const { policy, validityMonths, period, activities, now } = input
  const ce = policy?.continuingEducation
  const required = { points: ce?.minPoints ?? 0, approvedPoints: ce?.minApprovedPoints ?? 0 }
  const deadline = ce === undefined || period.validUntil === null ? undefined : continuingEducationDeadline(period.validUntil, ce.graceMonths ?? 0)
  const until = deadline === undefined || now.getTime() < deadline.getTime() ? now : deadline
  const window = ce === undefined ? undefined : { from: day(period.validFrom), until: day(until) }
  const inWindow = (a: ActivityFacts): boolean => window !== undefined && a.completedOn >= window.from && a.completedOn <= window.until
  const counted = activities.filter(inWindow)
  const total = counted.reduce((sum, a) => sum + hundredths(a.points), 0)
  const approved = counted.filter((a) => a.category === 'approved').reduce((sum, a) => sum + hundredths(a.points), 0)
  const earned = { points: total / 100, approvedPoints: approved / 100 }
  const decision = decideRecertification({ policy, validityMonths, currentValidUntil: period.validUntil, request: { method: 'continuing-education', points: { total: earned.points, approved: earned.approvedPoints } }, now })
  return {
    offered: ce !== undefined,
    required,
    earned,
    missing: {
      points: Math.max(0, hundredths(required.points) - total) / 100,
      approvedPoints: Math.max(0, hundredths(required.approvedPoints) - approved) / 100
    },
    ...(window === undefined ? {} : { window }),
    counted: counted.map((a) => a.id),
    outsideWindow: activities.filter((a) => !inWindow(a)).map((a) => a.id),
    ...(period.validUntil === null ? {} : { validUntil: period.validUntil }),
    ...(deadline === undefined ? {} : { deadline }),
    canApply: decision.allowed,
    ...(decision.allowed ? {} : { refusal: { rule: decision.rule, message: decision.message } })
  }
}
