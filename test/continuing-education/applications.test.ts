import t, { type Test } from 'tap'
import { applyForRecertification, approveApplication, rejectApplication } from '../../src/capabilities/continuing-education/applications.js'
import { addApprovedProvider } from '../../src/capabilities/continuing-education/approved-providers.js'
import { loadCeRecord } from '../../src/capabilities/continuing-education/progress.js'
import { deleteActivity, recordActivity } from '../../src/capabilities/continuing-education/record-activity.js'
import { AppError } from '../../src/kernel/errors.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { ceDeps, declared } from '../helpers/continuing-education.js'

/**
 * The continuing-education services on a real PostgreSQL: recording,
 * applying, approving and rejecting, on the app's clock (moved by the test).
 * Achievements and credentials are made through the staff API with the admin
 * key; the services are called as the portal and the staff routes call them.
 */

const DAY = 86_400_000
const PROVIDER = 'https://ce.example.org/provider'
const CCMA = { ...CMA_ACHIEVEMENT, name: 'CCMA', validityMonths: 24, recertification: { continuingEducation: { minPoints: 10 } } }
const GRACE = { ...CMA_ACHIEVEMENT, name: 'Graced', validityMonths: 24, recertification: { continuingEducation: { minPoints: 10, graceMonths: 3 } } }
// 3 months after 15 January 2026 is 15 April 2026: 90 days.
const EXPIRY = new Date('2026-01-15T00:00:00Z')
const afterExpiry = (days: number): Date => new Date(EXPIRY.getTime() + days * DAY)

const clock = { now: new Date('2025-03-01T10:00:00Z') }
const app = await build(t, { clock: () => clock.now })
const deps = ceDeps(app, () => clock.now)
const ccma = await createAchievement(app, CCMA)
const graced = await createAchievement(app, GRACE)
await addApprovedProvider(deps.providers(), ccma.id, { providerId: PROVIDER, name: 'AAMA CEU Center' })
let holders = 0

/** A credential of the achievement, issued at the clock's now (validUntil as given, or by the validity). */
async function holder (achievementId: string, validUntil?: Date): Promise<string> {
  holders++
  const issued = await issue(app, { achievementId, recipient: { name: `Holder ${holders}`, email: `holder${holders}@example.org` }, notify: false, ...(validUntil === undefined ? {} : { validUntil: validUntil.toISOString() }) })
  return issued.id
}

/** The AppError `promise` was refused with (failing the test when it resolved). */
async function refusal (t: Test, promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    t.equal(error.code, code, `refused: ${code} (${error.message})`)
    return error
  }
  t.fail(`expected ${code}, it went through`)
  return new AppError('not_found', 'unreachable')
}

const at = async <T>(when: Date, work: () => Promise<T>): Promise<T> => {
  clock.now = when
  return await work()
}

const credentialRow = async (id: string): Promise<{ current_version: number, versions: number }> =>
  (await app.sql<Array<{ current_version: number, versions: number }>>`select current_version, (select count(*)::int from credential_versions v where v.credential_id = c.id) as versions from credentials c where id = ${id}`)[0]!

t.test('activities completed before the version\'s validFrom or after the deadline are recorded but not counted', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  clock.now = new Date('2025-06-01T10:00:00Z')
  const before = await recordActivity(deps.record(), id, declared('2025-02-28', 10, 'other'), { certificateRequired: false })
  let record = await loadCeRecord(app.sql, id, clock.now)
  t.same([record.progress.counted, record.progress.outsideWindow, record.progress.earned.points], [[], [before.id], 0], 'the day before validFrom does not count')
  const error = await refusal(t, applyForRecertification(deps.apply(), id), 'recertification_refused')
  t.match(error.extra, { rule: 'min_points', progress: '0 of 10 points' }, 'in the rules\' words, with the progress')
  const first = await recordActivity(deps.record(), id, declared('2025-03-01', 10, 'other'), { certificateRequired: false })
  record = await loadCeRecord(app.sql, id, clock.now)
  t.same([record.progress.counted, record.progress.earned.points, record.progress.canApply], [[first.id], 10, true], 'validFrom\'s own day counts')

  clock.now = afterExpiry(-300)
  const graceId = await holder(graced.id, EXPIRY)
  clock.now = afterExpiry(100)
  const late = await recordActivity(deps.record(), graceId, declared('2026-04-16', 15, 'other'), { certificateRequired: false })
  const inGrace = await recordActivity(deps.record(), graceId, declared('2026-04-15', 10, 'other'), { certificateRequired: false })
  record = await loadCeRecord(app.sql, graceId, clock.now)
  t.same([record.progress.counted, record.progress.outsideWindow], [[inGrace.id], [late.id]], 'the day after the deadline (15 April) does not count; the deadline\'s day does')
  t.same([record.progress.earned.points, record.progress.refusal?.rule], [10, 'grace_period_over'], 'enough points, but too late to apply')
})

t.test('an activity declared "approved" must name one of the achievement\'s approved providers', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  clock.now = new Date('2025-04-01T10:00:00Z')
  const unnamed = await refusal(t, recordActivity(deps.record(), id, declared('2025-03-10', 3, 'approved'), { certificateRequired: false }), 'activity_refused')
  t.match(unnamed, { message: /must come from one of this achievement's approved providers: AAMA CEU Center \(https:\/\/ce\.example\.org\/provider\)/, extra: { field: 'providerId' } })
  await refusal(t, recordActivity(deps.record(), id, declared('2025-03-10', 3, 'approved', 'https://other.example.org/'), { certificateRequired: false }), 'activity_refused')
  const noList = await holder(graced.id)
  const empty = await refusal(t, recordActivity(deps.record(), noList, declared('2025-03-10', 3, 'approved', PROVIDER), { certificateRequired: false }), 'activity_refused')
  t.match(empty.message, /has no approved providers yet/, 'another achievement\'s list does not count')
  t.same((await loadCeRecord(app.sql, id, clock.now)).activities, [], 'nothing recorded')

  const approved = await recordActivity(deps.record(), id, declared('2025-03-10', 3, 'approved', `${PROVIDER}/`), { certificateRequired: false })
  t.same([approved.category, approved.provider, approved.providerId], ['approved', 'AAMA CEU Center', PROVIDER], 'listed (trailing slash aside): recorded as approved, under the listed name')
  const other = await recordActivity(deps.record(), id, declared('2025-03-11', 2, 'other'), { certificateRequired: false })
  t.same([other.category, other.provider], ['other', 'Some CE provider'], '"other" needs no list')
  t.same((await loadCeRecord(app.sql, id, clock.now)).progress.earned, { points: 5, approvedPoints: 3 })
  await refusal(t, recordActivity(deps.record(), id, declared('2025-04-02', 2, 'other'), { certificateRequired: false }), 'activity_refused')
})

t.test('the CCMA-like rule: 10 points, applied and approved, renew for 24 months from the old validUntil', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  const [version] = await app.sql`select valid_until from credential_versions where credential_id = ${id}`
  t.equal(version?.valid_until.toISOString(), '2027-03-01T10:00:00.000Z', 'issued for 24 months')
  clock.now = new Date('2026-11-10T09:00:00Z')
  await recordActivity(deps.record(), id, declared('2026-10-01', 6, 'other'), { certificateRequired: false })
  await recordActivity(deps.record(), id, declared('2026-11-01', 4, 'approved', PROVIDER), { certificateRequired: false })
  const application = await applyForRecertification(deps.apply(), id)
  t.same([application.state, application.pointsTotal, application.pointsApproved, application.credentialVersion], ['pending', 10, 4, 1])
  clock.now = new Date('2026-11-12T09:00:00Z')
  const { application: decided, issued } = await approveApplication(deps.reissue(), application.id)
  t.same([decided.state, decided.resultVersion, issued.version], ['approved', 2, 2])
  t.equal(issued.credential.validUntil, '2029-03-01T10:00:00Z', 'the old validUntil plus 24 months: no time lost')
  t.equal(issued.credential.validFrom, '2026-11-12T09:00:00Z')
  t.same(await credentialRow(id), { current_version: 2, versions: 2 })
  const record = await loadCeRecord(app.sql, id, clock.now)
  t.same([record.progress.earned.points, record.progress.canApply, record.pending], [0, false, undefined], 'the new period starts from nothing: the spent activities never count again')
  const [audit] = await app.sql`select actor, details from audit_events where action = 'recertification.approved' and subject_id = ${id}`
  t.same([audit?.actor, audit?.details.points], ['staff-test', { total: 10, approved: 4 }])
})

t.test('the grace period: day 89 after expiry is accepted, day 92 refused; applied on day 89 and approved on day 95 still renews', async (t) => {
  clock.now = afterExpiry(-400)
  const early = await holder(graced.id, EXPIRY)
  const late = await holder(graced.id, EXPIRY)
  clock.now = afterExpiry(-10)
  for (const id of [early, late]) await recordActivity(deps.record(), id, declared('2026-01-01', 10, 'other'), { certificateRequired: false })

  const application = await at(afterExpiry(89), async () => await applyForRecertification(deps.apply(), early))
  t.equal(application.submittedAt.toISOString(), '2026-04-14T00:00:00.000Z', 'day 89: accepted')
  const refused = await refusal(t, at(afterExpiry(92), async () => await applyForRecertification(deps.apply(), late)), 'recertification_refused')
  t.equal(refused.extra.rule, 'grace_period_over', 'day 92: past 15 April')
  t.match(refused.message, /until 3 months after expiry \(15 April 2026\)/)
  t.equal((await app.sql`select count(*)::int as n from recertification_applications where credential_id = ${late}`)[0]?.n, 0, 'nothing stored for the refusal')

  const { issued } = await at(afterExpiry(95), async () => await approveApplication(deps.reissue(), application.id))
  t.equal(issued.version, 2, 'approved on day 95: judged at the application\'s date')
  t.equal(issued.credential.validFrom, '2026-04-20T00:00:00Z')
  t.equal(issued.credential.validUntil, '2028-04-20T00:00:00Z', 'expired before: the new period runs from the approval')
})

t.test('two applications at once for one badge make one; the other is told one is pending', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  clock.now = new Date('2025-09-01T10:00:00Z')
  await recordActivity(deps.record(), id, declared('2025-08-01', 12, 'other'), { certificateRequired: false })
  const outcomes = await Promise.allSettled([applyForRecertification(deps.apply(), id), applyForRecertification(deps.apply(), id)])
  const made = outcomes.filter((o) => o.status === 'fulfilled')
  const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
  t.equal(made.length, 1, 'one application')
  t.equal(refused.length, 1)
  t.ok(refused[0]?.reason instanceof AppError, 'the other a problem, not a crash')
  t.equal((refused[0]?.reason as AppError).code, 'application_pending')
  t.equal((refused[0]?.reason as AppError).extra.application, made[0]?.status === 'fulfilled' ? made[0].value.id : undefined, 'naming the pending one')
  const rows = await app.sql`select state from recertification_applications where credential_id = ${id}`
  t.same(rows.map((r) => r.state), ['pending'], 'one pending row in the database')
  await refusal(t, applyForRecertification(deps.apply(), id), 'application_pending')
  t.equal((await app.sql`select count(*)::int as n from events where type = 'recertification.applied' and credential_id = ${id}`)[0]?.n, 1, 'one applied event')
})

t.test('an application approved twice, or twice at once, issues one version', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const one = await holder(ccma.id)
  const two = await holder(ccma.id)
  clock.now = new Date('2025-09-01T10:00:00Z')
  const applications = []
  for (const id of [one, two]) {
    await recordActivity(deps.record(), id, declared('2025-08-01', 10, 'other'), { certificateRequired: false })
    applications.push(await applyForRecertification(deps.apply(), id))
  }
  const first = await approveApplication(deps.reissue(), applications[0]!.id)
  t.equal(first.issued.version, 2)
  const again = await refusal(t, approveApplication(deps.reissue(), applications[0]!.id), 'application_decided')
  t.match(again.extra, { state: 'approved', version: 2 })
  await refusal(t, rejectApplication(deps.apply('staff-test'), applications[0]!.id, 'Too late'), 'application_decided')
  t.same(await credentialRow(one), { current_version: 2, versions: 2 }, 'one new version')

  const outcomes = await Promise.allSettled([approveApplication(deps.reissue(), applications[1]!.id), approveApplication(deps.reissue(), applications[1]!.id)])
  t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'at once: one approval')
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
  t.equal((rejected?.reason as AppError | undefined)?.code, 'application_decided', 'the other finds it decided')
  t.same(await credentialRow(two), { current_version: 2, versions: 2 }, 'currentVersion + 1 only')
  t.equal((await app.sql`select count(*)::int as n from events where type = 'credential.recertified' and credential_id = ${two}`)[0]?.n, 1, 'one recertified event')
})

t.test('applying freezes the counted activities; rejecting gives them back, and a new application can follow', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  clock.now = new Date('2025-09-01T10:00:00Z')
  const a = await recordActivity(deps.record(), id, declared('2025-08-01', 6, 'other'), { certificateRequired: false })
  const b = await recordActivity(deps.record(), id, declared('2025-08-02', 5, 'other'), { certificateRequired: false })
  const application = await applyForRecertification(deps.apply(), id)
  const frozen = await refusal(t, deleteActivity(deps.record(), id, a.id), 'activity_frozen')
  t.match(frozen.message, application.id, 'the application that counts it is named')
  t.equal((await loadCeRecord(app.sql, id, clock.now)).activities.length, 2, 'still on the record')

  clock.now = new Date('2025-09-03T10:00:00Z')
  const rejected = await rejectApplication(deps.apply('staff-test'), application.id, 'The certificate for the 6-point course is for someone else.')
  t.same([rejected.state, rejected.decisionReason], ['rejected', 'The certificate for the 6-point course is for someone else.'])
  let record = await loadCeRecord(app.sql, id, clock.now)
  t.same(record.activities.map((x) => x.applicationId), [null, null], 'back on the record, no longer frozen')
  t.same([record.pending, record.progress.earned.points], [undefined, 11], 'counted again')
  await deleteActivity(deps.record(), id, a.id)
  record = await loadCeRecord(app.sql, id, clock.now)
  t.same(record.activities.map((x) => x.id), [b.id], 'and removable again')
  await refusal(t, applyForRecertification(deps.apply(), id), 'recertification_refused')
  await recordActivity(deps.record(), id, declared('2025-09-02', 5, 'other'), { certificateRequired: false })
  const second = await applyForRecertification(deps.apply(), id)
  t.same([second.state, second.pointsTotal], ['pending', 10], 'a new application follows')
  t.same((await app.sql`select state from recertification_applications where credential_id = ${id} order by submitted_at`).map((r) => r.state), ['rejected', 'pending'])
  const [event] = await app.sql`select data from events where type = 'recertification.rejected' and credential_id = ${id}`
  t.same([event?.data.reason, event?.data.applicationId, event?.data.points], ['The certificate for the 6-point course is for someone else.', application.id, { total: 11, approved: 0 }], 'the rejected event carries the reason')
})

t.test('a correction while an application waits changes nothing; a renewal by exam makes it unapprovable, said plainly, and staff reject it', async (t) => {
  clock.now = new Date('2025-03-01T10:00:00Z')
  const id = await holder(ccma.id)
  clock.now = new Date('2026-09-01T10:00:00Z')
  await recordActivity(deps.record(), id, declared('2026-08-01', 10, 'other'), { certificateRequired: false })
  const corrected = await applyForRecertification(deps.apply(), id)
  const correction = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Holder Corrected' }, notify: false } })
  t.equal(correction.statusCode, 201, 'corrected: version 2, the same period')
  const { issued } = await approveApplication(deps.reissue(), corrected.id)
  t.same([issued.version, issued.credential.validUntil], [3, '2029-03-01T10:00:00Z'], 'approved after the correction')

  clock.now = new Date('2025-03-01T10:00:00Z')
  const other = await holder(ccma.id)
  clock.now = new Date('2026-09-01T10:00:00Z')
  await recordActivity(deps.record(), other, declared('2026-08-01', 10, 'other'), { certificateRequired: false })
  const stale = await applyForRecertification(deps.apply(), other)
  const exam = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${other}/recertify`, headers: app.auth, payload: { method: 'exam', notify: false } })
  t.equal(exam.statusCode, 201, 'renewed by exam meanwhile')
  const refused = await refusal(t, approveApplication(deps.reissue(), stale.id), 'conflict')
  t.match(refused.message, /was renewed since this application \(version 2, .*Reject the application\./)
  t.same(await credentialRow(other), { current_version: 2, versions: 2 }, 'no third version')
  await rejectApplication(deps.apply('staff-test'), stale.id, 'Renewed by exam meanwhile.')
  t.equal((await loadCeRecord(app.sql, other, clock.now)).pending, undefined, 'nothing pending any more')
})
