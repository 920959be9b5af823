import t, { type Test } from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { assertIndependentlyValid } from './helpers/independent-checks.js'

/** The CMA (AAMA) rules: 60 points, at least 30 from AAMA-approved CEUs, up to 3 months after expiry; otherwise by exam. */
const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }

interface Clocked { app: TestApp, setNow: (iso: string) => void }

async function setup (t: Test, start = '2026-03-31T00:00:00Z'): Promise<Clocked> {
  let now = new Date(start)
  const app = await build(t, { clock: () => now })
  return { app, setNow: (iso) => { now = new Date(iso) } }
}

const post = async (app: TestApp, url: string, payload: unknown) => await app.app.inject({ method: 'POST', url, headers: app.auth, payload: payload as Record<string, unknown> })
const verify = async (app: TestApp, credential: unknown, options?: Record<string, unknown>) =>
  await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential, ...(options !== undefined ? { options } : {}) } })
const path = (url: string): string => new URL(url).pathname

t.test('a name correction: a new version under the same URL, the old one superseded', async (t) => {
  const { app, setNow } = await setup(t)
  const achievement = await createAchievement(app)
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Asistant', email: 'jane@example.org' } })

  setNow('2026-04-10T09:00:00Z')
  const response = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Jane Q. Assistant' } })
  t.equal(response.statusCode, 201, response.body)
  const second = response.json()
  t.equal(second.version, 2)
  t.equal(second.id, first.id)
  t.equal(response.headers.location, `${first.url}/versions/2`)
  t.equal(second.credential.id, first.credential.id, 'the same credential id (its URL) for life')
  t.equal(second.credential.credentialSubject.name, 'Jane Q. Assistant')
  t.equal(second.credential.validFrom, first.credential.validFrom, 'a correction changes a fact, not the period: the same validFrom')
  t.equal(second.credential.validUntil, first.credential.validUntil, 'and the same validUntil')
  t.equal(second.credential.validUntil, first.credential.validUntil, 'the period is unchanged')
  t.equal(second.credential.awardedDate, first.credential.awardedDate, 'the original awardedDate')
  t.not(second.credential.credentialStatus.id, first.credential.credentialStatus.id, 'its own status entry')
  t.same(second.credential.refreshService, { id: first.url, type: '1EdTechCredentialRefresh' })
  await assertIndependentlyValid(t, app, second.credential, second.jwt, new Date('2026-04-11T00:00:00Z'))

  const current = await app.app.inject({ method: 'GET', url: path(first.url), headers: { accept: 'application/ld+json' } })
  t.equal(current.body, JSON.stringify(second.credential), 'the URL (and refresh service) serves the new version')
  const v1 = await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions/1` })
  t.equal(v1.body, JSON.stringify(first.credential), 'version 1, byte for byte')
  t.match(v1.headers['cache-control'], /immutable/)
  const v1jwt = await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions/1`, headers: { accept: 'application/vc+jwt' } })
  t.equal(v1jwt.body, first.jwt)
  t.equal((await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions/3` })).statusCode, 404)

  const versions = (await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions` })).json()
  t.equal(versions.currentVersion, 2)
  t.same(versions.versions.map((v: { version: number, state: string, kind: string }) => [v.version, v.state, v.kind]), [[1, 'superseded', 'issue'], [2, 'current', 'correction']])
  t.equal(versions.versions[0].url, `${first.url}/versions/1`)
  t.equal(versions.versions[0].validUntil, '2031-03-31T00:00:00.000Z')

  for (const old of [first.credential, first.jwt]) {
    const result = await verify(app, old)
    t.equal(result.statusCode, 422)
    t.equal(result.json().status, 'superseded', 'not valid, and not revoked')
    t.equal(result.json().revoked, false)
    t.same(result.json().currentVersion, { url: first.url, version: 2, supersededAt: '2026-04-10T09:00:00Z' })
    t.match(result.json().notice, /replaced on 10 April 2026 by a corrected version: the current version is at https:\/\/badges\.test\.example\/credentials\//)
  }
  const before = await verify(app, first.credential, { at: '2026-04-01T00:00:00Z' })
  t.equal(before.json().status, 'valid', 'on 1 April, before the correction, version 1 was good')
  t.equal((await verify(app, second.credential)).json().status, 'valid')

  const nothing = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Jane Q. Assistant' } })
  t.equal(nothing.statusCode, 400)
  t.match(nothing.json().detail, /changes nothing/)

  setNow('2026-05-01T00:00:00Z')
  const email = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { email: 'Jane.New@Example.org' }, note: 'New email after marriage' })
  t.equal(email.statusCode, 201)
  t.equal(email.json().version, 3)
  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${first.id}`, headers: app.auth })).json()
  t.equal(record.recipientEmail, 'jane.new@example.org')
  t.same(record.versions.map((v: { state: string }) => v.state), ['superseded', 'superseded', 'current'])
  const audit = await app.sql`select action, version, reason, before, after, request_id from audit_events where subject_id = ${first.id} order by id`
  t.same(audit.map((e) => [e.action, e.version]), [['credential.issued', 1], ['credential.corrected', 2], ['credential.corrected', 3]])
  t.equal(audit[1]!.before.recipientName, 'Jane Q. Asistant')
  t.equal(audit[1]!.after.recipientName, 'Jane Q. Assistant')
  t.equal(audit[2]!.reason, 'New email after marriage')
  t.ok(audit.every((e) => typeof e.request_id === 'string' && e.request_id !== ''), 'each event names its request')
})

t.test('recertifying by continuing education before expiry loses no time; the old version is left to expire, and this service answers superseded', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  t.equal(first.credential.validUntil, '2026-06-30T00:00:00Z')

  setNow('2026-05-01T12:00:00Z')
  const response = await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'continuing-education', points: { total: 60, approved: 30 } })
  t.equal(response.statusCode, 201, response.body)
  const second = response.json()
  t.equal(second.version, 2)
  t.equal(second.credential.validFrom, '2026-05-01T12:00:00Z', 'valid at once')
  t.equal(second.credential.validUntil, '2031-06-30T00:00:00Z', 'old validUntil + 60 months')
  t.equal(second.credential.awardedDate, first.credential.awardedDate)
  await assertIndependentlyValid(t, app, second.credential, second.jwt, new Date('2026-05-02T00:00:00Z'))

  const old = await verify(app, first.credential)
  t.equal(old.statusCode, 422)
  t.equal(old.json().status, 'superseded', 'this service points a verifier at the current period')
  t.equal(old.json().revoked, false, 'not revoked: what it says of its own period is true')
  t.same(old.json().currentVersion, { url: first.url, version: 2, renewedAt: '2026-05-01T12:00:00Z' })
  t.equal(old.json().notice, `This CMA (AAMA) certification was renewed on 1 May 2026: the current version is at ${first.url}.`)
  t.equal(old.json().checks.find((c: { id: string }) => c.id === 'status').message,
    `This version was renewed on 1 May 2026: version 2 is current, valid until 30 June 2031: ${first.url}.`)
  const before = await verify(app, first.credential, { at: '2026-04-30T00:00:00Z' })
  t.equal(before.json().status, 'valid', 'the prior version was good before the renewal')
  t.ok(before.json().warnings.some((w: string) => /version 2 is current/.test(w)), 'and the answer says a newer version exists')
  const versions = (await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions` })).json()
  t.same(versions.versions.map((v: { state: string, kind: string }) => [v.state, v.kind]), [['superseded', 'issue'], ['current', 'recertification']])
  const [event] = await app.sql`select details, after from audit_events where action = 'credential.recertified'`
  t.same(event!.details, { method: 'continuing-education', points: { total: 60, approved: 30 } })

  setNow('2026-07-01T00:00:00Z')
  const expired = (await verify(app, first.credential)).json()
  t.equal(expired.status, 'superseded', 'past its own date, superseded still outranks expired')
  t.equal(expired.expired, true, 'and the answer says it has expired too')
  t.equal((await verify(app, second.credential)).json().status, 'valid')
})

t.test('after expiry: continuing education within the grace period, then only by exam', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const a = await issue(app, { achievementId: achievement.id, recipient: { name: 'A', email: 'a@example.com' } })
  const b = await issue(app, { achievementId: achievement.id, recipient: { name: 'B', email: 'b@example.com' } })

  setNow('2026-08-15T00:00:00Z') // expired 30 June, grace until 30 September
  const within = await post(app, `/api/v1/credentials/${a.id}/recertify`, { method: 'continuing-education', points: { total: 75, approved: 40 } })
  t.equal(within.statusCode, 201, within.body)
  t.equal(within.json().credential.validFrom, '2026-08-15T00:00:00Z')
  t.equal(within.json().credential.validUntil, '2031-08-15T00:00:00Z', 'the period runs from the recertification date')

  setNow('2026-10-01T00:00:00Z')
  const late = await post(app, `/api/v1/credentials/${b.id}/recertify`, { method: 'continuing-education', points: { total: 75, approved: 40 } })
  t.equal(late.statusCode, 422)
  t.equal(late.json().type, 'urn:tessera:problem:recertification_refused')
  t.equal(late.json().detail, 'Continuing education is allowed until 3 months after expiry (30 September 2026); recertify by exam.')
  t.equal(late.json().rule, 'grace_period_over')
  const exam = await post(app, `/api/v1/credentials/${b.id}/recertify`, { method: 'exam' })
  t.equal(exam.statusCode, 201)
  t.equal(exam.json().credential.validUntil, '2031-10-01T00:00:00Z')
  t.equal((await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${b.id}`, headers: app.auth })).json().version, 2)
})

t.test('every rule refusal names the rule and what would satisfy it, and stores nothing', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const cma = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const examOnly = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Exam-only certificate' })
  const c = await issue(app, { achievementId: cma.id, recipient: { name: 'C', email: 'c@example.com' } })
  const e = await issue(app, { achievementId: examOnly.id, recipient: { name: 'E', email: 'e@example.com' } })
  setNow('2026-05-01T00:00:00Z')
  const cases: Array<[string, unknown, number, RegExp]> = [
    [c.id, { method: 'continuing-education', points: { total: 59, approved: 30 } }, 422, /needs at least 60 points; 59 given\.$/],
    [c.id, { method: 'continuing-education', points: { total: 60, approved: 29 } }, 422, /needs at least 30 points from approved continuing education; 29 given\.$/],
    [c.id, { method: 'continuing-education', points: { total: 60, approved: 61 } }, 422, /cannot be more than "points.total"/],
    [e.id, { method: 'continuing-education', points: { total: 100, approved: 100 } }, 422, /by exam only/],
    [c.id, { method: 'continuing-education' }, 400, /./],
    [c.id, { method: 'interview' }, 400, /./]
  ]
  for (const [id, body, status, message] of cases) {
    const response = await post(app, `/api/v1/credentials/${id}/recertify`, body)
    t.equal(response.statusCode, status, JSON.stringify(body))
    t.match(response.json().detail, message)
  }
  const [{ count }] = await app.sql<[{ count: string }]>`select count(*) from credential_versions`
  t.equal(Number(count), 2, 'no version was created')
})

t.test('a second policy, set through the API: 24 months, 10 points, no approved minimum, no grace', async (t) => {
  const { app, setNow } = await setup(t, '2024-01-15T00:00:00Z')
  const ccma = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'CCMA-like', validityMonths: 24 })
  const put = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${ccma.id}/recertification`, headers: app.auth, payload: { recertification: { continuingEducation: { minPoints: 10 } } } })
  t.equal(put.statusCode, 200, put.body)
  t.same(put.json().recertification, { continuingEducation: { minPoints: 10 } })
  const bad = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${ccma.id}/recertification`, headers: app.auth, payload: { recertification: { continuingEducation: { minPoints: -1 } } } })
  t.equal(bad.statusCode, 400)

  const x = await issue(app, { achievementId: ccma.id, recipient: { name: 'X', email: 'x@example.com' } })
  const y = await issue(app, { achievementId: ccma.id, recipient: { name: 'Y', email: 'y@example.com' } })
  setNow('2025-12-01T00:00:00Z')
  const ok = await post(app, `/api/v1/credentials/${x.id}/recertify`, { method: 'continuing-education', points: { total: 10, approved: 0 } })
  t.equal(ok.statusCode, 201, ok.body)
  t.equal(ok.json().credential.validUntil, '2028-01-15T00:00:00Z')
  setNow('2026-01-16T00:00:00Z')
  const late = await post(app, `/api/v1/credentials/${y.id}/recertify`, { method: 'continuing-education', points: { total: 10, approved: 0 } })
  t.equal(late.statusCode, 422)
  t.equal(late.json().detail, 'Continuing education is allowed only until the credential expires (15 January 2026); recertify by exam.')
  const events = await app.sql`select action, before, after from audit_events where subject_id = ${ccma.id} order by id`
  t.same(events.map((e) => e.action), ['achievement.created', 'achievement.recertification_set'])
  t.same(events[1]!.after, { recertification: { continuingEducation: { minPoints: 10 } } })
})

t.test('point in time: a credential revoked on 5 March was valid on 1 March', async (t) => {
  const { app, setNow } = await setup(t, '2026-01-10T00:00:00Z')
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'R', email: 'r@example.com' } })
  setNow('2026-03-05T10:00:00Z')
  t.equal((await post(app, `/api/v1/credentials/${issued.id}/revoke`, { reason: 'Exam annulled' })).statusCode, 200)
  setNow('2026-04-01T00:00:00Z')
  for (const form of [issued.credential, issued.jwt]) {
    const onFirst = (await verify(app, form, { at: '2026-03-01T00:00:00Z' })).json()
    t.equal(onFirst.status, 'valid')
    t.match(onFirst.checks.find((c: { id: string }) => c.id === 'status').message, /revoked on 2026-03-05T10:00:00Z/)
    t.equal((await verify(app, form, { at: '2026-03-06T00:00:00Z' })).json().status, 'revoked')
    t.equal((await verify(app, form)).json().status, 'revoked')
  }
})

t.test('a recipient who holds a current credential is not issued another: 409 naming it', async (t) => {
  const { app, setNow } = await setup(t, '2021-01-01T00:00:00Z')
  const achievement = await createAchievement(app)
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'D', email: 'dup@example.com' } })
  const again = await post(app, '/api/v1/credentials', { achievementId: achievement.id, recipient: { name: 'D', email: 'DUP@Example.com' } })
  t.equal(again.statusCode, 409)
  t.equal(again.json().type, 'urn:tessera:problem:duplicate_credential')
  t.same(again.json().existing, { id: first.id, url: first.url })
  t.match(again.json().detail, /Reissue or recertify/)
  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Another' })
  t.equal((await post(app, '/api/v1/credentials', { achievementId: other.id, recipient: { name: 'D', email: 'dup@example.com' } })).statusCode, 201, 'another achievement is fine')

  const racing = await Promise.all([1, 2, 3].map(async () => await post(app, '/api/v1/credentials', { achievementId: achievement.id, recipient: { name: 'Race', email: 'race@example.com' } })))
  t.same(racing.map((r) => r.statusCode).sort(), [201, 409, 409], 'concurrent first issues: exactly one wins')

  setNow('2026-02-01T00:00:00Z') // the first has expired
  t.equal((await post(app, '/api/v1/credentials', { achievementId: achievement.id, recipient: { name: 'D', email: 'dup@example.com' } })).statusCode, 201, 'an expired credential is not current')
})

t.test('a revoked credential gets no new versions; revoking after a correction revokes the live version', async (t) => {
  const { app, setNow } = await setup(t)
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Old Name', email: 'v@example.com' } })
  setNow('2026-04-01T00:00:00Z')
  const second = (await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'New Name' } })).json()
  setNow('2026-05-01T00:00:00Z')
  t.equal((await post(app, `/api/v1/credentials/${first.id}/revoke`, { reason: 'fraud' })).statusCode, 200)
  const versions = (await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions` })).json()
  t.same(versions.versions.map((v: { state: string }) => v.state), ['superseded', 'revoked'])
  t.equal((await verify(app, second.credential)).json().status, 'revoked')
  t.equal((await verify(app, first.credential)).json().status, 'superseded', 'version 1 was superseded before the revocation')
  for (const [url, body] of [[`/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Other' } }], [`/api/v1/credentials/${first.id}/recertify`, { method: 'exam' }]] as const) {
    const response = await post(app, url, body)
    t.equal(response.statusCode, 409)
    t.equal(response.json().type, 'urn:tessera:problem:credential_revoked')
  }
  t.equal((await post(app, '/api/v1/credentials/AAAAAAAAAAAAAAAA/reissue', { reason: 'correction', recipient: { name: 'X' } })).statusCode, 404)
})

t.test('a correction carries the period of the version it corrects, expired or not', async (t) => {
  const { app, setNow } = await setup(t, '2021-01-10T00:00:00Z')
  const achievement = await createAchievement(app)
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Fast', email: 'fast@example.com' } })
  setNow('2021-05-01T12:00:00Z')
  const second = (await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Faster' } })).json()
  t.equal(second.credential.validFrom, '2021-01-10T00:00:00Z', 'the same start as version 1 (the version number orders them)')
  t.equal((await verify(app, second.credential)).json().status, 'valid')

  setNow('2026-06-01T00:00:00Z') // expired on 10 January 2026
  const late = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Fastest' } })
  t.equal(late.statusCode, 201)
  t.equal(late.json().credential.validFrom, '2021-01-10T00:00:00Z', 'the whole period, not its last second')
  t.equal(late.json().credential.validUntil, '2026-01-10T00:00:00Z')
  t.equal((await verify(app, late.json().credential)).json().status, 'expired', 'corrected, and still expired')
})
