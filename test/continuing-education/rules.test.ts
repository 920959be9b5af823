import t from 'tap'
import { continuingEducationProgress, decideRecertification, type ActivityFacts, type RecertificationPolicy } from '../../src/capabilities/achievements/recertification-rules.js'

/**
 * The rules of recertification by continuing education, pure: which
 * activities count (the certification period's window), what is missing,
 * the grace period, and that the progress a holder sees gives the same
 * answer as the decision made on approval.
 */

const DAY = 86_400_000
const CMA: RecertificationPolicy = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
// The CCMA-like rule: 10 points every 2 years, no approved share, no grace.
const CCMA: RecertificationPolicy = { continuingEducation: { minPoints: 10 } }
const GRACE: RecertificationPolicy = { continuingEducation: { minPoints: 10, graceMonths: 3 } }
const VALID_FROM = new Date('2024-01-15T00:00:00Z')
// 3 months after 15 January 2026 is 15 April 2026: exactly 90 days.
const VALID_UNTIL = new Date('2026-01-15T00:00:00Z')
const afterExpiry = (days: number): Date => new Date(VALID_UNTIL.getTime() + days * DAY)

let next = 0
const activity = (completedOn: string, points: number, category: ActivityFacts['category'] = 'other'): ActivityFacts => ({ id: `a${++next}`, completedOn, points, category })

t.test('only activities completed within the period count: not before its validFrom day, not after the deadline', async (t) => {
  const before = activity('2024-01-14', 20)
  const first = activity('2024-01-15', 5, 'approved')
  const inside = activity('2025-06-01', 7)
  const inGrace = activity('2026-04-10', 3)
  const afterDeadline = activity('2026-04-16', 40)
  const activities = [before, first, inside, inGrace, afterDeadline]
  const progress = continuingEducationProgress({ policy: GRACE, validityMonths: 24, period: { validFrom: VALID_FROM, validUntil: VALID_UNTIL }, activities, now: afterExpiry(120) })
  t.same(progress.window, { from: '2024-01-15', until: '2026-04-15' }, 'the window: validFrom\'s day to the deadline (today is past it)')
  t.same(progress.counted, [first.id, inside.id, inGrace.id], 'the first day counts; the grace period counts')
  t.same(progress.outsideWindow, [before.id, afterDeadline.id], 'the day before validFrom and the day after the deadline do not')
  t.same(progress.earned, { points: 15, approvedPoints: 5 })
  t.equal(progress.deadline?.toISOString(), '2026-04-15T23:59:59.000Z', 'the whole of the deadline\'s day (the day pages and emails print)')

  const early = continuingEducationProgress({ policy: GRACE, validityMonths: 24, period: { validFrom: VALID_FROM, validUntil: VALID_UNTIL }, activities, now: new Date('2025-06-01T08:00:00Z') })
  t.same(early.window, { from: '2024-01-15', until: '2025-06-01' }, 'before the deadline, the window ends today')
  t.same(early.counted, [first.id, inside.id], 'nothing later than today counts')
  t.same([early.canApply, early.earned.points], [true, 12])
})

t.test('points and approved points: what is missing, in hundredths, and the refusal in the rules\' words', async (t) => {
  const period = { validFrom: VALID_FROM, validUntil: VALID_UNTIL }
  const now = new Date('2025-10-01T00:00:00Z')
  const short = continuingEducationProgress({ policy: CMA, validityMonths: 60, period, activities: [activity('2025-01-01', 25, 'approved'), activity('2025-02-01', 17)], now })
  t.same([short.required, short.earned, short.missing], [{ points: 60, approvedPoints: 30 }, { points: 42, approvedPoints: 25 }, { points: 18, approvedPoints: 5 }])
  t.same([short.canApply, short.refusal?.rule], [false, 'min_points'])

  const notEnoughApproved = continuingEducationProgress({ policy: CMA, validityMonths: 60, period, activities: [activity('2025-01-01', 25, 'approved'), activity('2025-02-01', 50)], now })
  t.same([notEnoughApproved.canApply, notEnoughApproved.refusal?.rule, notEnoughApproved.missing], [false, 'min_approved_points', { points: 0, approvedPoints: 5 }], 'enough points, too few approved')
  t.match(notEnoughApproved.refusal?.message, /at least 30 points from approved continuing education; 25 given/)

  const tenths = continuingEducationProgress({ policy: { continuingEducation: { minPoints: 0.3 } }, validityMonths: 24, period, activities: [activity('2025-01-01', 0.1), activity('2025-01-02', 0.2)], now })
  t.same([tenths.earned.points, tenths.canApply], [0.3, true], '0.1 + 0.2 makes 0.3 (summed in hundredths)')

  const examOnly = continuingEducationProgress({ policy: { exam: true }, validityMonths: 60, period, activities: [activity('2025-01-01', 100)], now })
  t.same([examOnly.offered, examOnly.canApply, examOnly.refusal?.rule, examOnly.window], [false, false, 'continuing_education_not_accepted', undefined], 'no continuing education in the rules: nothing counts')
})

t.test('the CCMA-like rule: 10 points in 24 months renew for 24 more, from the old validUntil when before expiry', async (t) => {
  const now = new Date('2025-11-20T10:00:00Z')
  const renewed = decideRecertification({ policy: CCMA, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { method: 'continuing-education', points: { total: 10, approved: 0 } }, now })
  t.same(renewed, { allowed: true, validFrom: now, validUntil: new Date('2028-01-15T00:00:00Z') }, 'no time lost: 24 months from the old validUntil')
  const nine = decideRecertification({ policy: CCMA, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { method: 'continuing-education', points: { total: 9.99, approved: 0 } }, now })
  t.match(nine, { allowed: false, rule: 'min_points', message: 'Recertification by continuing education needs at least 10 points; 9.99 given.' })
  const late = decideRecertification({ policy: CCMA, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { method: 'continuing-education', points: { total: 10, approved: 0 } }, now: afterExpiry(1) })
  t.match(late, { allowed: false, rule: 'grace_period_over' }, 'no grace: only until the credential expires')
  t.match(late, { message: /only until the credential expires \(15 January 2026\); recertify by exam/ })
  const progress = continuingEducationProgress({ policy: CCMA, validityMonths: 24, period: { validFrom: VALID_FROM, validUntil: VALID_UNTIL }, activities: [activity('2025-03-03', 10)], now })
  t.same([progress.canApply, progress.missing, progress.deadline?.toISOString()], [true, { points: 0, approvedPoints: 0 }, '2026-01-15T23:59:59.000Z'], 'no grace: the deadline is the end of the expiry day')
  t.same(decideRecertification({ policy: CCMA, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { method: 'continuing-education', points: { total: 10, approved: 11 } }, now }), { allowed: false, rule: 'points_inconsistent', message: '"points.approved" (11) cannot be more than "points.total" (10).' })
})

t.test('the grace period: 3 months after a 15 January expiry is 90 days; day 89 is accepted, day 92 refused', async (t) => {
  const request = { method: 'continuing-education' as const, points: { total: 10, approved: 0 } }
  const day89 = decideRecertification({ policy: GRACE, validityMonths: 24, currentValidUntil: VALID_UNTIL, request, now: afterExpiry(89) })
  t.same(day89, { allowed: true, validFrom: afterExpiry(89), validUntil: new Date('2028-04-14T00:00:00Z') }, 'after expiry the new period runs from the recertification')
  t.same(decideRecertification({ policy: GRACE, validityMonths: 24, currentValidUntil: VALID_UNTIL, request, now: afterExpiry(90) }).allowed, true, 'the deadline itself is still in time')
  const day92 = decideRecertification({ policy: GRACE, validityMonths: 24, currentValidUntil: VALID_UNTIL, request, now: afterExpiry(92) })
  t.same(day92, { allowed: false, rule: 'grace_period_over', message: 'Continuing education is allowed until 3 months after expiry (15 April 2026); recertify by exam.' })

  const progress = (days: number): ReturnType<typeof continuingEducationProgress> => continuingEducationProgress({ policy: GRACE, validityMonths: 24, period: { validFrom: VALID_FROM, validUntil: VALID_UNTIL }, activities: [activity('2025-12-01', 10)], now: afterExpiry(days) })
  t.same([progress(89).canApply, progress(92).canApply, progress(92).refusal?.rule], [true, false, 'grace_period_over'], 'the progress a holder sees says the same')

  const judgedAtApplication = decideRecertification({ policy: GRACE, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { ...request, appliedAt: afterExpiry(89) }, now: afterExpiry(95) })
  t.same(judgedAtApplication, { allowed: true, validFrom: afterExpiry(95), validUntil: new Date('2028-04-20T00:00:00Z') }, 'applied on day 89, approved on day 95: judged at the application\'s date, the period from the approval')
  t.match(decideRecertification({ policy: GRACE, validityMonths: 24, currentValidUntil: VALID_UNTIL, request: { ...request, appliedAt: afterExpiry(92) }, now: afterExpiry(95) }), { allowed: false, rule: 'grace_period_over' }, 'applied on day 92: too late whenever it is reviewed')
})

t.test('the progress\'s answer is the decision\'s, whatever the points', async (t) => {
  const period = { validFrom: VALID_FROM, validUntil: VALID_UNTIL }
  for (const days of [-200, -1, 0, 45, 90, 91]) {
    for (const [total, approved] of [[0, 0], [59.99, 30], [60, 29.99], [60, 30], [80, 40]] as const) {
      const now = afterExpiry(days)
      const activities = [activity('2025-01-10', total - approved), activity('2025-01-11', approved, 'approved')].filter((a) => a.points > 0)
      const progress = continuingEducationProgress({ policy: CMA, validityMonths: 60, period, activities, now })
      const decision = decideRecertification({ policy: CMA, validityMonths: 60, currentValidUntil: VALID_UNTIL, request: { method: 'continuing-education', points: { total, approved } }, now })
      t.equal(progress.canApply, decision.allowed, `day ${days}, ${total}/${approved}`)
      if (!decision.allowed) t.equal(progress.refusal?.rule, decision.rule)
    }
  }
})
