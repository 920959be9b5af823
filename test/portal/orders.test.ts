import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { FAST_JOBS, startSmtpServer, waitFor } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'

/**
 * The Digital Badge Order Form and the staff queue: orders and correction
 * requests, approved (issuing or correcting once) or rejected (the requester
 * is emailed why); My badges and the per-badge privacy switch.
 */

async function order (app: Parameters<typeof getPage>[0], fields: Record<string, string>): Promise<{ status: number, body: string }> {
  const jar = new CookieJar()
  const form = await getPage(app, jar, '/order')
  const response = await postForm(app, jar, '/order', { _csrf: csrfToken(form.body), ...fields })
  return { status: response.statusCode, body: response.body }
}

const SAM = { name: 'Sam Lee', email: 'Sam.Lee@example.org', certificateNumber: 'CMA-123456', certifiedOn: '2023-01-15', consent: 'yes', note: 'Certified since 2013.' }

t.test('an order is approved with a back-dated period: the credential has those dates, approving twice issues once, the holder is emailed the link', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const now = new Date('2026-11-25T12:00:00Z')
  const app = await build(t, { clock: () => now, env: { ...FAST_JOBS, SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)

  const form = await getPage(app, new CookieJar(), '/order')
  t.equal(form.statusCode, 200)
  t.match(form.body, /Digital Badge Order Form/)
  t.match(form.body, /class="hp" aria-hidden="true"/, 'a honeypot field people do not see')
  const sent = await order(app, SAM)
  t.equal(sent.status, 200)
  t.match(sent.body, /your order was received/)

  const queue = await app.app.inject({ url: '/api/v1/orders?state=pending', headers: app.auth })
  t.equal(queue.statusCode, 200)
  const [item] = queue.json().items
  t.match(item, { type: 'badge', state: 'pending', name: 'Sam Lee', email: 'sam.lee@example.org', certificateNumber: 'CMA-123456', certifiedOn: '2023-01-15', note: 'Certified since 2013.' })
  t.ok(item.consentedAt, 'the consent is recorded with its time')

  const refused = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/approve`, headers: app.auth, payload: {} })
  t.equal(refused.statusCode, 400, 'a badge order needs the achievement and the period')
  t.equal(refused.json().type, 'urn:tessera:problem:validation_failed')

  const approval = { achievementId: achievement.id, validFrom: '2023-01-15T00:00:00Z', validUntil: '2028-01-15T00:00:00Z', awardedDate: '2013-06-01T00:00:00Z' }
  const approved = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/approve`, headers: app.auth, payload: approval })
  t.equal(approved.statusCode, 200)
  const record = approved.json()
  t.match(record, { state: 'approved', alreadyApproved: false, decidedBy: 'bootstrap', result: { version: 1 } })
  const credential = await app.app.inject({ url: `/api/v1/credentials/${record.result.credentialId}`, headers: app.auth })
  t.match(credential.json(), { recipientName: 'Sam Lee', recipientEmail: 'sam.lee@example.org', validFrom: '2023-01-15T00:00:00.000Z', validUntil: '2028-01-15T00:00:00.000Z', awardedDate: '2013-06-01T00:00:00.000Z' })
  t.match(credential.json().credential, { validFrom: '2023-01-15T00:00:00Z', validUntil: '2028-01-15T00:00:00Z', awardedDate: '2013-06-01T00:00:00Z' }, 'the signed credential carries the period staff gave')

  const twice = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/approve`, headers: app.auth, payload: approval })
  t.equal(twice.statusCode, 200)
  t.match(twice.json(), { alreadyApproved: true, result: { credentialId: record.result.credentialId } })
  // Concurrent approvals serialise on the order row: still one credential.
  const racing = await Promise.all([1, 2, 3].map(async () => await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/approve`, headers: app.auth, payload: approval })))
  t.same(racing.map((r) => r.statusCode), [200, 200, 200])
  t.equal((await app.sql`select 1 from credentials where recipient_email = 'sam.lee@example.org'`).length, 1, 'approving again issues nothing')

  const mail = await waitFor('the badge email', () => smtp.messages.find((m) => m.envelopeTo.includes('sam.lee@example.org')))
  t.match(mail.text, new RegExp(record.result.url.replace(/[.]/g, '\\.')), 'the holder is emailed the badge link')
  const audit = await app.app.inject({ url: `/api/v1/audit-events?subjectType=order&subjectId=${item.id}`, headers: app.auth })
  t.match(audit.json().items, [{ action: 'order.approved', actor: 'bootstrap' }], 'the approval is audited')
})

t.test('a rejection emails the reason; a rejected order cannot be approved; bad orders are not stored', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { ...FAST_JOBS, SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)

  const invalid = await order(app, { ...SAM, consent: '', certifiedOn: '2999-01-01', email: 'not-an-address' })
  t.equal(invalid.status, 400)
  t.match(invalid.body, /Tick the box to agree/)
  t.match(invalid.body, /not in the future/)
  t.match(invalid.body, /Enter your email address/)
  t.match(invalid.body, /value="Sam Lee"/, 'what was typed is kept')
  const bot = await order(app, { ...SAM, website: 'https://spam.example' })
  t.equal(bot.status, 200, 'a bot that fills the honeypot is thanked')
  t.equal((await app.sql`select 1 from orders`).length, 0, 'and neither is stored')

  await order(app, SAM)
  const [item] = (await app.app.inject({ url: '/api/v1/orders', headers: app.auth })).json().items
  const reason = 'We could not find certificate CMA-123456 under this name; please check the number on your certificate.'
  const rejected = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/reject`, headers: app.auth, payload: { reason } })
  t.equal(rejected.statusCode, 200)
  t.match(rejected.json(), { state: 'rejected', rejectionReason: reason })
  const mail = await waitFor('the rejection email', () => smtp.messages.find((m) => m.envelopeTo.includes('sam.lee@example.org')))
  t.match(mail.subject, /not approved/)
  t.match(mail.text, reason, 'the email gives the reason')
  await waitFor('the email recorded', async () => (await app.app.inject({ url: `/api/v1/orders/${item.id}`, headers: app.auth })).json().rejectionEmailedAt ?? undefined)
  const again = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/reject`, headers: app.auth, payload: { reason: 'again' } })
  t.equal(again.json().rejectionReason, reason, 'rejecting again changes nothing')
  const approve = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${item.id}/approve`, headers: app.auth, payload: { achievementId: achievement.id, validFrom: '2023-01-15T00:00:00Z' } })
  t.equal(approve.statusCode, 409)
  t.equal(approve.json().type, 'urn:tessera:problem:conflict')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(smtp.messages.length, 1, 'one email for one rejection')
  const missing = await app.app.inject({ method: 'POST', url: '/api/v1/orders/AAAAAAAAAAAAAAAAAAAAAA/reject', headers: app.auth, payload: { reason } })
  t.equal(missing.statusCode, 404)
})

t.test('My badges: every badge of the address, newest first; privacy hides the page but not the signed credential; a correction request goes through the queue', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  let now = new Date('2026-11-25T12:00:00Z')
  const app = await build(t, { clock: () => now, env: { SMTP_URL: smtp.url } })
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  const phlebotomy = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Phlebotomy Skills', achievementType: 'Badge' })
  const first = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-01-01T00:00:00Z' })
  now = new Date('2026-11-25T13:00:00Z')
  const second = await issue(app, { achievementId: phlebotomy.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const other = await issue(app, { achievementId: cma.id, recipient: { name: 'Sam Lee', email: 'sam@example.org' } })

  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  const mine = await getPage(app, jar, '/account')
  const names = [...mine.body.matchAll(/<h2 id="badge-[^"]+">([^<]+)<\/h2>/g)].map((m) => m[1])
  t.same(names, ['Phlebotomy Skills', 'CMA (AAMA)'], 'both badges, newest first, and nobody else\'s')
  for (const file of ['certificate.pdf', 'wallet-card.pdf', 'badge.png', 'credential.jsonld', 'credential.jwt']) t.match(mine.body, `/credentials/${first.id}/${file}`)
  t.match(mine.body, `/credentials/${first.id}/share/linkedin`, 'LinkedIn through the counted redirect')
  t.notMatch(mine.body, other.id)
  t.match(mine.body, /class="banner banner--valid"/)

  // Privacy.
  const hide = await postForm(app, jar, `/account/badges/${first.id}/privacy`, { _csrf: csrfToken(mine.body), hidden: 'true' })
  t.equal(hide.statusCode, 200)
  t.match(hide.body, /The badge page is now private/)
  const publicPage = await app.app.inject({ url: `/credentials/${first.id}`, headers: { accept: 'text/html' } })
  t.equal(publicPage.statusCode, 200)
  t.match(publicPage.body, /This credential is private/)
  t.notMatch(publicPage.body, /Jane/, 'nothing about the holder')
  t.notMatch(publicPage.body, /og:image/, 'no preview for link unfurlers')
  for (const file of ['preview.png', 'certificate.pdf', 'wallet-card.pdf']) {
    const hidden = await app.app.inject({ url: `/credentials/${first.id}/${file}` })
    t.equal(hidden.statusCode, 403, `${file} is hidden`)
    t.equal(hidden.json().type, 'urn:tessera:problem:credential_private')
  }
  const signed = await app.app.inject({ url: `/credentials/${first.id}`, headers: { accept: 'application/ld+json' } })
  t.equal(signed.statusCode, 200, 'the signed credential is still served')
  const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: signed.json() } })
  t.equal(verified.json().status, 'valid', 'and still verifies')
  const ownView = await getPage(app, jar, `/credentials/${first.id}`)
  t.match(ownView.body, /This page is private: only you see it/, 'the signed-in holder still sees the page')
  t.match(ownView.body, /Jane Q\. Assistant/)
  t.equal((await getPage(app, jar, `/credentials/${first.id}/wallet-card.pdf`)).statusCode, 200, 'and can download the wallet card')
  const notMine = await postForm(app, jar, `/account/badges/${other.id}/privacy`, { _csrf: csrfToken(mine.body), hidden: 'true' })
  t.equal(notMine.statusCode, 404, 'another holder\'s badge cannot be hidden')
  t.equal((await app.sql`select 1 from credentials where id = ${other.id} and hidden_by_holder_at is not null`).length, 0)
  const show = await postForm(app, jar, `/account/badges/${first.id}/privacy`, { _csrf: csrfToken(mine.body), hidden: 'false' })
  t.match(show.body, /public again/)
  t.match((await app.app.inject({ url: `/credentials/${first.id}`, headers: { accept: 'text/html' } })).body, /Jane Q\. Assistant/)

  // A correction request, approved by staff.
  const correctionForm = await getPage(app, jar, `/account/badges/${second.id}/correction`)
  t.match(correctionForm.body, /Request a correction/)
  const same = await postForm(app, jar, `/account/badges/${second.id}/correction`, { _csrf: csrfToken(correctionForm.body), field: 'name', value: 'Jane Q. Assistant', note: '' })
  t.equal(same.statusCode, 400, 'a "correction" to what the badge already says is refused')
  const requested = await postForm(app, jar, `/account/badges/${second.id}/correction`, { _csrf: csrfToken(correctionForm.body), field: 'name', value: 'Jane Q. Smith', note: 'Married in June.' })
  t.match(requested.body, /Your correction request was sent to staff/)
  t.match(requested.body, /Name to &quot;Jane Q\. Smith&quot; \(sent [^)]+\): <strong>waiting for staff<\/strong>/)
  const duplicate = await postForm(app, jar, `/account/badges/${second.id}/correction`, { _csrf: csrfToken(correctionForm.body), field: 'name', value: 'Jane Smith', note: '' })
  t.match(duplicate.body, /already have a correction request waiting/)
  const [request] = (await app.app.inject({ url: '/api/v1/orders?type=correction&state=pending', headers: app.auth })).json().items
  t.match(request, { type: 'correction', credentialId: second.id, correction: { field: 'name', value: 'Jane Q. Smith' }, note: 'Married in June.', email: 'jane@example.org' })
  const approved = await app.app.inject({ method: 'POST', url: `/api/v1/orders/${request.id}/approve`, headers: app.auth, payload: {} })
  t.equal(approved.statusCode, 200)
  t.match(approved.json(), { state: 'approved', result: { credentialId: second.id, version: 2 } })
  const page = await app.app.inject({ url: `/credentials/${second.id}`, headers: { accept: 'text/html' } })
  t.match(page.body, /Jane Q\. Smith/, 'the page shows the corrected name')
  t.match((await getPage(app, jar, '/account')).body, /<strong>approved<\/strong>/, 'the holder sees the request approved')
})
