import t from 'tap'
import type { Test } from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'

/**
 * The staff side of continuing education over real HTTP (inject) and a real
 * PostgreSQL: approved providers per achievement, recording one activity or
 * a provider's CSV report with the same checks, the record with its progress,
 * the uploaded certificate served back, and the review queue down to an
 * approval (a new version under the same URL) and a rejection.
 */

const NOW = new Date('2026-12-04T12:00:00Z')
const CMA_RULES = { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true, renewalFee: { amount: 65, currency: 'USD', reference: 'https://www.aama-ntl.org/recertify' } } }
const AAMA = 'https://www.aama-ntl.org'
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n')

async function setUp (t: Test): Promise<{ app: TestApp, achievementId: string, credentialId: string, url: string }> {
  const app = await build(t, { clock: () => NOW })
  const { id: achievementId } = await createAchievement(app, CMA_RULES)
  const issued = await issue(app, { achievementId, recipient: { name: 'Dana Whitfield', email: 'dana@example.org' }, validFrom: '2022-01-10T00:00:00Z' })
  return { app, achievementId, credentialId: issued.id, url: issued.url }
}

t.test('approved providers are data staff keep per achievement, audited; a duplicate is a 409', async (t) => {
  const { app, achievementId } = await setUp(t)
  const add = await app.app.inject({ method: 'POST', url: `/api/v1/achievements/${achievementId}/approved-providers`, headers: app.auth, payload: { providerId: AAMA, name: 'AAMA (approved CEUs)' } })
  t.equal(add.statusCode, 201, add.body)
  const again = await app.app.inject({ method: 'POST', url: `/api/v1/achievements/${achievementId}/approved-providers`, headers: app.auth, payload: { providerId: `${AAMA}/`, name: 'AAMA again' } })
  t.equal(again.statusCode, 201, 'a trailing slash is another spelling in the list itself (the matching ignores it)')
  const list = await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/approved-providers`, headers: app.auth })
  t.equal(list.json().items.length, 2)
  const dup = await app.app.inject({ method: 'POST', url: `/api/v1/achievements/${achievementId}/approved-providers`, headers: app.auth, payload: { providerId: AAMA, name: 'AAMA' } })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().existing.id, add.json().id)
  const removed = await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/approved-providers/${add.json().id as string}`, headers: app.auth })
  t.equal(removed.statusCode, 200)
  const audit = await app.sql`select action from audit_events where subject_id = ${achievementId} and action like 'approved_provider.%' order by occurred_at, action`
  t.same(audit.map((r) => r.action).sort(), ['approved_provider.added', 'approved_provider.added', 'approved_provider.removed'])
  const unknown = await app.app.inject({ method: 'GET', url: '/api/v1/achievements/nope/approved-providers', headers: app.auth })
  t.equal(unknown.statusCode, 404)
})

t.test('staff record activities one by one and by CSV; the record shows progress, and an approval makes the new version', async (t) => {
  const { app, achievementId, credentialId, url } = await setUp(t)
  await app.app.inject({ method: 'POST', url: `/api/v1/achievements/${achievementId}/approved-providers`, headers: app.auth, payload: { providerId: AAMA, name: 'AAMA (approved CEUs)' } })

  const approvedWithoutProvider = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'Ethics', provider: 'Someone', completedOn: '2026-01-05', points: 5, category: 'approved' } })
  t.equal(approvedWithoutProvider.statusCode, 422)
  t.equal(approvedWithoutProvider.json().type, 'urn:tessera:problem:activity_refused')
  t.match(approvedWithoutProvider.json().detail, /AAMA \(approved CEUs\)/, 'the refusal names the approved providers')

  const one = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'Infection control', provider: 'ignored', providerId: AAMA, completedOn: '2026-03-14', points: 30, category: 'approved', certificate: { data: PDF.toString('base64'), filename: 'my cert.pdf' } } })
  t.equal(one.statusCode, 201, one.body)
  t.equal(one.json().provider, 'AAMA (approved CEUs)', 'an approved activity carries the listed provider\'s name')
  t.equal(one.json().evidence.mediaType, 'application/pdf')
  const file = await app.app.inject({ method: 'GET', url: one.json().evidence.url.replace('https://badges.test.example', ''), headers: app.auth })
  t.equal(file.statusCode, 200)
  t.equal(file.headers['content-type'], 'application/pdf')
  t.same(file.rawPayload, PDF)

  const again = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'Infection control (sent twice)', provider: 'x', completedOn: '2026-03-14', points: 30, category: 'other', certificate: { data: PDF.toString('base64') } } })
  t.equal(again.statusCode, 409, 'the same certificate file counts once per badge (a form sent twice records one activity)')
  t.match(again.json().detail, /already on the record, for "Infection control"/)
  const notPdf = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'x', provider: 'y', completedOn: '2026-03-14', points: 1, category: 'other', certificate: { data: Buffer.from('<html>').toString('base64') } } })
  t.equal(notPdf.json().type, 'urn:tessera:problem:evidence_refused')
  const future = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'x', provider: 'y', completedOn: '2027-01-01', points: 1, category: 'other' } })
  t.equal(future.json().field, 'completedOn')

  const badCsv = `credentialId,title,provider,completedOn,points,category\n${credentialId},Wound care,College,2026-02-01,10,other\n${credentialId},Later,College,2026-02-02,ten,other\n`
  const refused = await app.app.inject({ method: 'POST', url: '/api/v1/continuing-education/activities', headers: { ...app.auth, 'content-type': 'text/csv' }, payload: badCsv })
  t.equal(refused.statusCode, 422)
  t.match(refused.json().items, [{ row: 3 }], 'the bad row is named by its spreadsheet number')
  const before = await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${credentialId}/continuing-education`, headers: app.auth })
  t.equal(before.json().activities.length, 1, 'nothing of a refused import is recorded')

  const csv = `credentialId,title,provider,completedOn,points,category\n${credentialId},Wound care,College,2026-02-01,20,other\n${credentialId},Old course,College,2021-06-01,20,other\n`
  const imported = await app.app.inject({ method: 'POST', url: '/api/v1/continuing-education/activities', headers: { ...app.auth, 'content-type': 'text/csv' }, payload: csv })
  t.equal(imported.statusCode, 201, imported.body)
  t.equal(imported.json().recorded, 2)
  t.same(imported.json().items.map((a: { title: string, credentialId: string }) => [a.title, a.credentialId]), [['Wound care', credentialId], ['Old course', credentialId]], 'the recorded rows, in the CSV\'s order')
  const importAudit = await app.sql`select after->>'title' as title from audit_events where action = 'ce_activity.recorded' and subject_id = ${credentialId} and after->>'activity' = any(${imported.json().items.map((a: { id: string }) => a.id)}) order by after->>'title'`
  t.same(importAudit.map((r) => r.title), ['Old course', 'Wound care'], 'one audit event per imported activity')

  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${credentialId}/continuing-education`, headers: app.auth })).json()
  t.equal(record.progress.summary, '50 of 60 points, 30 of 30 approved', 'the 2021 course is before this certification period began')
  t.same(record.progress.missing, { points: 10, approvedPoints: 0 })
  t.equal(record.progress.canApply, false)
  t.equal(record.progress.refusal.rule, 'min_points')
  t.same(record.progress.renewalFee, { amount: 65, currency: 'USD', reference: 'https://www.aama-ntl.org/recertify' })
  t.same(record.progress.window, { from: '2022-01-10', until: '2026-12-04' })
  t.equal(record.activities.find((a: { title: string }) => a.title === 'Old course').counted, false)

  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'Pharmacology', provider: 'College', completedOn: '2026-11-01', points: 10.5, category: 'other' } })
  const { applyForRecertification } = await import('../../src/capabilities/continuing-education/applications.js')
  const application = await applyForRecertification({ sql: app.sql, now: NOW, actor: 'holder', outbox: app.app.outbox, urls: app.app.urls }, credentialId)
  t.equal(application.pointsTotal, 60.5)

  const queue = await app.app.inject({ method: 'GET', url: '/api/v1/recertification-applications?state=pending', headers: app.auth })
  t.equal(queue.json().items.length, 1)
  t.equal(queue.json().items[0].recipient.email, 'dana@example.org')
  const shown = await app.app.inject({ method: 'GET', url: `/api/v1/recertification-applications/${application.id}`, headers: app.auth })
  t.equal(shown.json().activities.length, 3, 'the application lists the activities it counts')

  const frozen = await app.app.inject({ method: 'DELETE', url: `/api/v1/credentials/${credentialId}/continuing-education/activities/${one.json().id as string}`, headers: app.auth })
  t.equal(frozen.json().type, 'urn:tessera:problem:activity_frozen')

  const approved = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${application.id}/approve`, headers: app.auth, payload: {} })
  t.equal(approved.statusCode, 200, approved.body)
  t.equal(approved.json().credential.version, 2)
  t.equal(approved.json().credential.url, url, 'the same credential URL')
  t.equal(approved.json().credential.validUntil, '2032-01-10T00:00:00Z', 'renewed before expiry: five years on from the old validUntil')
  t.equal(approved.json().application.state, 'approved')
  const twice = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${application.id}/approve`, headers: app.auth, payload: {} })
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().type, 'urn:tessera:problem:application_decided')
  const after = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${credentialId}/continuing-education`, headers: app.auth })).json()
  t.equal(after.progress.earned.points, 0, 'the new period starts with nothing counted')
  const events = await app.sql`select type from events where credential_id = ${credentialId} order by occurred_at, type`
  t.ok(events.some((e) => e.type === 'recertification.applied'))
  t.ok(events.some((e) => e.type === 'recertification.approved'))
  t.ok(events.some((e) => e.type === 'credential.recertified'))
})

t.test('rejection takes a reason, is audited and gives the activities back', async (t) => {
  const { app, credentialId } = await setUp(t)
  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${(await app.sql`select achievement_id from credentials where id = ${credentialId}`)[0]!.achievement_id as string}/recertification`, headers: app.auth, payload: { recertification: { continuingEducation: { minPoints: 10 } } } })
  const recorded = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${credentialId}/continuing-education/activities`, headers: app.auth, payload: { title: 'CPR', provider: 'Red Cross', completedOn: '2026-05-01', points: 10, category: 'other' } })
  t.equal(recorded.statusCode, 201, recorded.body)
  const { applyForRecertification } = await import('../../src/capabilities/continuing-education/applications.js')
  const application = await applyForRecertification({ sql: app.sql, now: NOW, actor: 'holder', outbox: app.app.outbox, urls: app.app.urls }, credentialId)
  const noReason = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${application.id}/reject`, headers: app.auth, payload: {} })
  t.equal(noReason.statusCode, 400)
  const rejected = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${application.id}/reject`, headers: app.auth, payload: { reason: 'The CPR certificate is not legible.' } })
  t.equal(rejected.statusCode, 200, rejected.body)
  t.equal(rejected.json().reason, 'The CPR certificate is not legible.')
  const removed = await app.app.inject({ method: 'DELETE', url: `/api/v1/credentials/${credentialId}/continuing-education/activities/${recorded.json().id as string}`, headers: app.auth })
  t.equal(removed.statusCode, 204, 'the activity is no longer frozen')
  const audit = await app.sql`select action from audit_events where subject_id = ${credentialId} order by occurred_at`
  t.ok(audit.some((r) => r.action === 'recertification.rejected'))
  t.ok(audit.some((r) => r.action === 'ce_activity.removed'))
})
