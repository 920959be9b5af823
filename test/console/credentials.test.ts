import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { consoleStaff } from '../helpers/console.js'

const RULES = { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } }

t.test('staff find a holder by certificate number, name or email, and filter by status', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app, RULES)
  const jane = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, certificateNumber: 'CMA-000123' })
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Omar Other', email: 'omar@example.org' }, certificateNumber: 'CMA-000999' })
  const revoked = await issue(app, { achievementId: achievement.id, recipient: { name: 'Rex Revoked', email: 'rex@example.org' } })
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'Exam result annulled' } })
  const staff = await consoleStaff(app, 'viewer')

  const byNumber = await staff.page('/console/credentials?q=cma-000123')
  t.equal(byNumber.statusCode, 200)
  t.match(byNumber.body, /1–1 of 1/, 'a certificate number matches exactly, in any case')
  t.match(byNumber.body, new RegExp(`href="/console/credentials/${jane.id}">Jane Q. Assistant`))
  t.notMatch(byNumber.body, /Omar Other/)
  t.notMatch((await staff.page('/console/credentials?q=CMA-0001')).body, /Jane Q/, 'no partial certificate numbers')
  t.match((await staff.page('/console/credentials?q=assist')).body, /Jane Q. Assistant/, 'part of a name')
  t.match((await staff.page('/console/credentials?q=OMAR%40example')).body, /Omar Other/, 'part of an email, any case')
  const revokedOnly = await staff.page('/console/credentials?state=revoked')
  t.match(revokedOnly.body, /Rex Revoked/)
  t.notMatch(revokedOnly.body, /Jane Q/)
  t.match((await staff.page('/console/credentials?q=nobody-at-all')).body, /No credential matches/)
  t.equal((await staff.page('/console/credentials?state=bogus')).statusCode, 400, 'a bad filter is a clear error')

  await app.app.inject({ method: 'GET', url: `/credentials/${jane.id}`, headers: { accept: 'text/html' } })
  await app.app.inject({ method: 'GET', url: `/credentials/${jane.id}/share/linkedin` })
  const page = await staff.page(`/console/credentials/${jane.id}`)
  t.match(page.body, /CMA-000123/)
  t.match(page.body, /<td>Badge page views<\/td><td>1<\/td>/, 'the badge\'s own counts')
  t.match(page.body, /<td>LinkedIn add-to-profile clicks<\/td><td>1<\/td>/)
  const dashboard = await staff.page(`/console?achievementId=${achievement.id}`)
  t.match(dashboard.body, /<svg[^>]*role="img"/, 'the dashboard\'s chart')
  t.match(dashboard.body, /<td>Badge page views<\/td><td>1<\/td>/, 'the achievement\'s totals')
  t.match(page.body, /credential\.issued/, 'the audit trail')
  t.notMatch(page.body, /Correct…/, 'a viewer sees no actions')
})

t.test('a registrar corrects a name, recertifies by exam, resends the email and revokes, each after a confirmation; each audited with them', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app, RULES)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Asistant', email: 'jane@example.org' } })
  const staff = await consoleStaff(app, 'registrar', { name: 'Rita Registrar' })
  const pageUrl = `/console/credentials/${issued.id}`

  const asked = await staff.submit(pageUrl, `${pageUrl}/correct`, { name: 'Jane Q. Assistant', email: 'jane@example.org', note: 'Typo in the surname' })
  t.equal(asked.statusCode, 200)
  t.match(asked.body, /Correct this credential\?/)
  t.match(asked.body, /The name changes from “Jane Q. Asistant” to “Jane Q. Assistant”/, 'the confirmation says what will happen')
  t.match(asked.body, /Version 2 is signed under the same URL/)
  t.equal((await app.sql`select current_version from credentials where id = ${issued.id}`)[0]!.current_version, 1, 'nothing changed before confirming')
  const fields = Object.fromEntries([...asked.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]))
  const corrected = await staff.submit(pageUrl, `${pageUrl}/correct`, fields)
  t.equal(corrected.statusCode, 303)
  t.equal(corrected.headers.location, `${pageUrl}?done=corrected`)
  const [row] = await app.sql`select current_version, recipient_name from credentials where id = ${issued.id}`
  t.same(row, { current_version: 2, recipient_name: 'Jane Q. Assistant' })

  const recertify = await staff.submit(pageUrl, `${pageUrl}/recertify`, { note: 'Passed the exam', confirmed: 'yes' })
  t.equal(recertify.statusCode, 303)
  t.equal((await app.sql`select current_version from credentials where id = ${issued.id}`)[0]!.current_version, 3)

  const resent = await staff.submit(pageUrl, `${pageUrl}/resend-email`, { confirmed: 'yes' })
  t.equal(resent.statusCode, 303)
  const [email] = await app.sql`select state, resends, version from email_notifications where credential_id = ${issued.id} and version = 3`
  t.same(email, { state: 'pending', resends: 1, version: 3 }, 'the current version\'s email is queued again')

  const noReason = await staff.submit(pageUrl, `${pageUrl}/revoke`, { reason: '  ' })
  t.equal(noReason.statusCode, 400, 'revoking needs a reason')
  const revokeAsk = await staff.submit(pageUrl, `${pageUrl}/revoke`, { reason: 'Exam result annulled' })
  t.match(revokeAsk.body, /This cannot be undone/)
  const revoked = await staff.submit(pageUrl, `${pageUrl}/revoke`, { reason: 'Exam result annulled', confirmed: 'yes' })
  t.equal(revoked.statusCode, 303)
  t.ok((await app.sql`select revoked_at from credentials where id = ${issued.id}`)[0]!.revoked_at)

  const trail = await app.sql<Array<{ action: string, actor: string }>>`select action, actor from audit_events where subject_id = ${issued.id} and actor <> 'bootstrap' order by id`
  t.same(trail.map((e) => e.action), ['credential.corrected', 'credential.recertified', 'credential.email_resent', 'credential.revoked'])
  t.ok(trail.every((e) => e.actor === `staff:${staff.user.id}`), 'the staff user is the actor of each')
  const shown = await staff.page(pageUrl)
  t.match(shown.body, /Rita Registrar/, 'the audit trail on the page names the staff user')
  t.notMatch(shown.body, /Correct…/, 'no actions on a revoked credential')
})

t.test('a viewer cannot act: every action route answers 403 and changes nothing', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app, RULES)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const viewer = await consoleStaff(app, 'viewer')
  const pageUrl = `/console/credentials/${issued.id}`
  for (const [action, fields] of [['correct', { name: 'X', email: 'x@example.org', confirmed: 'yes' }], ['recertify', { confirmed: 'yes' }], ['resend-email', { confirmed: 'yes' }], ['revoke', { reason: 'no', confirmed: 'yes' }]] as const) {
    const answer = await viewer.submit(pageUrl, `${pageUrl}/${action}`, fields)
    t.equal(answer.statusCode, 403, `${action}: refused`)
    t.match(answer.body, /Your role \(viewer\) does not allow this/)
  }
  const [row] = await app.sql`select current_version, revoked_at from credentials where id = ${issued.id}`
  t.same(row, { current_version: 1, revoked_at: null }, 'nothing changed')
  t.equal((await app.sql`select count(*)::int as n from audit_events where actor like 'staff:%' and subject_type = 'credential'`)[0]!.n, 0)
})
