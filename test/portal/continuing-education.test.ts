import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { addApprovedProvider } from '../../src/capabilities/continuing-education/approved-providers.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { generateDidKey, signCredential } from '../helpers/did-key-signing.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'
import { ceBadge } from '../helpers/continuing-education.js'

/**
 * The holder's continuing-education page in the portal: progress in the
 * rules' words, activities added with a certificate (checked by its bytes)
 * or as a verifiable CE credential (checked by the verifier), removing one,
 * applying; every refusal the page again with its message, CSRF on the
 * multipart forms too, and only the holder's own badge and certificates.
 */

type Json = Record<string, any>
const NOW = new Date('2026-12-04T12:00:00Z')
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')

const smtp = await startSmtpServer()
t.teardown(smtp.close)
const app = await build(t, { clock: () => NOW, env: { SMTP_URL: smtp.url, OUTBOUND_ALLOW_LOOPBACK: 'true' } })
const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true, renewalFee: { amount: 75, currency: 'USD', reference: 'Pay at aama-ntl.org/recertify' } } })
const provider = await generateDidKey()
const approved = await addApprovedProvider({ sql: app.sql, now: NOW, actor: 'test' }, achievement.id, { providerId: provider.did, name: 'Midwest CE (AAMA-approved)' })
const jane = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2022-01-01T00:00:00Z' })
const bob = await issue(app, { achievementId: achievement.id, recipient: { name: 'Bob Assistant', email: 'bob@example.org' }, validFrom: '2022-01-01T00:00:00Z' })
const janeJar = new CookieJar()
await signIn(app, janeJar, 'jane@example.org', smtp.messages)
const page = `/account/badges/${jane.id}/continuing-education`

/** A multipart form post as a browser makes it (FormData serialised by fetch's own encoder). */
async function postMultipart (t: TestApp, jar: CookieJar, url: string, fields: Record<string, string | { bytes: Buffer, filename: string, type: string }>): Promise<LightMyRequestResponse> {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value)
    else form.append(name, new Blob([new Uint8Array(value.bytes)], { type: value.type }), value.filename)
  }
  const request = new Request('http://localhost/', { method: 'POST', body: form })
  const payload = Buffer.from(await request.arrayBuffer())
  return jar.take(await t.app.inject({ method: 'POST', url, headers: { 'content-type': request.headers.get('content-type') ?? '', ...jar.header() }, payload }))
}

const activities = async (): Promise<Array<{ title: string, applicationId: string | null }>> =>
  await app.sql<Array<{ title: string, applicationId: string | null }>>`select title, application_id as "applicationId" from ce_activities where credential_id = ${jane.id} and removed_at is null order by recorded_at`
const fresh = async (): Promise<string> => csrfToken((await getPage(app, janeJar, page)).body)
// A certificate file counts once per badge: each form gets its own (the first is PDF itself).
let certificates = 0
const certificate = (): Buffer => certificates++ === 0 ? PDF : Buffer.concat([PDF, Buffer.from(`% copy ${certificates}\n`)])
const declared = (csrf: string, extra: Record<string, string | { bytes: Buffer, filename: string, type: string }> = {}): Record<string, string | { bytes: Buffer, filename: string, type: string }> =>
  ({ _csrf: csrf, title: 'Infection control update', category: 'approved', providerId: approved.id, provider: '', completedOn: '2026-03-14', points: '20', certificate: { bytes: certificate(), filename: 'infection control.pdf', type: 'application/pdf' }, ...extra })

const pharmacology = (issuer: string, credits: number): Json => ceBadge(issuer, { title: 'Pharmacology refresher', credits, validFrom: '2026-05-01T00:00:00Z', awardedDate: '2026-05-02T10:00:00Z' })

t.test('My badges shows the progress in the rules\' words with the deadline, and the page shows what is missing, the fee that is not taken here, and why Apply is disabled', async (t) => {
  const mine = await getPage(app, janeJar, '/account')
  t.equal(mine.statusCode, 200)
  t.match(mine.body, '0 of 60 points, 0 of 30 approved, apply by 1 April 2027', 'validUntil 1 January 2027 plus three months of grace')
  t.match(mine.body, `<a href="${page}">Continuing education</a>`)

  const shown = await getPage(app, janeJar, page)
  t.equal(shown.statusCode, 200)
  t.equal(shown.headers['cache-control'], 'no-store')
  t.match(shown.body, 'Continuing education: CMA (AAMA)')
  t.match(shown.body, '0 of 60 points, 0 of 30 approved')
  t.match(shown.body, '60 more points, of which 30 more from approved providers')
  t.match(shown.body, '1 January 2027', 'validUntil')
  t.match(shown.body, '1 April 2027 (the last day continuing education is accepted)')
  t.match(shown.body, '75.00 USD (Pay at aama-ntl.org/recertify). Payment is not taken here')
  t.match(shown.body, /<button type="submit" disabled aria-describedby="why-not">Apply for recertification<\/button>/)
  t.match(shown.body, 'You cannot apply yet: Recertification by continuing education needs at least 60 points; 0 given.')
  t.match(shown.body, `<option value="${approved.id}">Midwest CE (AAMA-approved)</option>`, 'the approved providers to choose from')
})

t.test('a certificate upload is accepted as a PDF by its bytes; a non-PDF and a file over 5 MiB are refused on the page, and nothing is stored', async (t) => {
  const added = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh()))
  t.equal(added.statusCode, 200)
  t.match(added.body, 'Added &quot;Infection control update&quot; (20 points).')
  t.match(added.body, '20 of 60 points, 20 of 30 approved')
  t.match(added.body, /Certificate \(infection-control\.pdf\)/)

  const notPdf = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh(), { title: 'A web page', certificate: { bytes: Buffer.from('<html><script>alert(1)</script></html>'), filename: 'cert.pdf', type: 'application/pdf' } }))
  t.equal(notPdf.statusCode, 422)
  t.match(notPdf.headers['content-type'], /^text\/html/)
  t.match(notPdf.body, 'The certificate must be a PDF, PNG or JPEG file.')
  t.match(notPdf.body, 'value="A web page"', 'the form keeps what was typed')

  const big = Buffer.concat([PDF, Buffer.alloc(5 * 1024 * 1024)])
  const tooBig = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh(), { title: 'A huge scan', certificate: { bytes: big, filename: 'scan.pdf', type: 'application/pdf' } }))
  t.equal(tooBig.statusCode, 422)
  t.match(tooBig.body, 'The certificate file is larger than 5 MiB')

  const missing = await postMultipart(app, janeJar, `${page}/activities`, { ...declared(await fresh(), { title: 'No file' }), certificate: '' })
  t.equal(missing.statusCode, 422)
  t.match(missing.body, 'Attach the certificate of completion')

  const wrongProvider = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh(), { title: 'Not approved', providerId: '' }))
  t.equal(wrongProvider.statusCode, 422)
  t.match(wrongProvider.body, 'An approved activity must come from one of this achievement&#39;s approved providers')
  t.same((await activities()).map((a) => a.title), ['Infection control update'], 'only the accepted one is on the record')
})

t.test('a multipart form without its CSRF token, or with another\'s, is the 403 page and records nothing', async (t) => {
  const before = (await activities()).length
  const none = await postMultipart(app, janeJar, `${page}/activities`, { ...declared(''), _csrf: '' })
  t.equal(none.statusCode, 403)
  t.match(none.headers['content-type'], /^text\/html/)
  t.match(none.body, 'This form has expired')
  const otherJar = new CookieJar()
  const otherToken = csrfToken((await getPage(app, otherJar, '/account')).body)
  const forged = await postMultipart(app, janeJar, `${page}/activities`, declared(otherToken))
  t.equal(forged.statusCode, 403, 'a token minted for another browser\'s secret')
  const credential = await postMultipart(app, janeJar, `${page}/credentials`, { credential: '{}' })
  t.equal(credential.statusCode, 403)
  const apply = await postForm(app, janeJar, `${page}/apply`, {})
  t.equal(apply.statusCode, 403, 'the urlencoded forms too')
  t.equal((await activities()).length, before)
})

t.test('another holder\'s badge, and its certificates, are the 404 page; signed out is the sign-in form', async (t) => {
  const bobJar = new CookieJar()
  await signIn(app, bobJar, 'bob@example.org', smtp.messages)
  const [activity] = await app.sql<Array<{ id: string }>>`select id from ce_activities where credential_id = ${jane.id} and evidence_kind = 'upload'`
  const evidence = `${page}/activities/${activity?.id ?? ''}/evidence`

  const hers = await getPage(app, janeJar, evidence)
  t.equal(hers.statusCode, 200)
  t.equal(hers.headers['content-type'], 'application/pdf')
  t.equal(hers.headers['content-disposition'], 'attachment; filename="infection-control.pdf"')
  t.equal(hers.headers['x-content-type-options'], 'nosniff')
  t.equal(hers.headers['cache-control'], 'private, no-store')
  t.same(hers.rawPayload, PDF, 'the bytes uploaded')

  const notHis = await getPage(app, bobJar, evidence)
  t.equal(notHis.statusCode, 404)
  t.match(notHis.body, 'Badge not found')
  t.notMatch(notHis.body, '%PDF')
  t.equal((await getPage(app, bobJar, page)).statusCode, 404)
  const bobsOwn = await getPage(app, bobJar, `/account/badges/${bob.id}/continuing-education/activities/${activity?.id ?? ''}/evidence`)
  t.equal(bobsOwn.statusCode, 404, 'Jane\'s activity under Bob\'s own badge')
  const post = await postMultipart(app, bobJar, `${page}/activities`, declared(csrfToken((await getPage(app, bobJar, `/account/badges/${bob.id}/continuing-education`)).body)))
  t.equal(post.statusCode, 404, 'nor can he add to her record')
  t.equal((await getPage(app, new CookieJar(), evidence)).statusCode, 303)
  t.equal((await getPage(app, new CookieJar(), page)).headers.location, '/account')
})

t.test('a verifiable CE credential from an approved provider counts as approved; one from an unknown issuer is refused with the verifier\'s words', async (t) => {
  const signed = await signCredential(pharmacology(provider.did, 15), provider)
  const added = await postMultipart(app, janeJar, `${page}/credentials`, { _csrf: await fresh(), credential: JSON.stringify(signed) })
  t.equal(added.statusCode, 200)
  t.match(added.body, 'Added &quot;Pharmacology refresher&quot; from Midwest CE (AAMA-approved) (15 points, approved).')
  t.match(added.body, '35 of 60 points, 35 of 30 approved')

  const again = await postMultipart(app, janeJar, `${page}/credentials`, { _csrf: await fresh(), credential: JSON.stringify(signed) })
  t.equal(again.statusCode, 409)
  t.match(again.body, 'This CE credential is already on the record')

  const stranger = await generateDidKey()
  const unknown = await postMultipart(app, janeJar, `${page}/credentials`, { _csrf: await fresh(), credential: JSON.stringify(await signCredential(pharmacology(stranger.did, 40), stranger)) })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.body, /role="alert"/)
  t.match(unknown.body, /not (a )?recogni[sz]ed|unverified|registry/i, 'the verifier\'s reason')

  const nothing = await postMultipart(app, janeJar, `${page}/credentials`, { _csrf: await fresh(), credential: '  ' })
  t.equal(nothing.statusCode, 422)
  t.match(nothing.body, 'Paste the CE credential')
})

t.test('Apply is refused in the rule\'s words, then accepted; the counted activities are frozen and cannot be removed, others can', async (t) => {
  const old = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh(), { title: 'Before this period', category: 'other', providerId: '', provider: 'County college', completedOn: '2021-06-01', points: '30' }))
  t.equal(old.statusCode, 200)
  t.match(old.body, 'not counted: completed outside this certification period')
  t.match(old.body, '35 of 60 points', 'the old activity adds nothing')

  const refused = await postForm(app, janeJar, `${page}/apply`, { _csrf: await fresh() })
  t.equal(refused.statusCode, 422)
  t.match(refused.body, 'Recertification by continuing education needs at least 60 points; 35 given.')
  t.equal((await app.sql`select 1 from recertification_applications`).length, 0)

  const more = await postMultipart(app, janeJar, `${page}/activities`, declared(await fresh(), { title: 'Phlebotomy workshop', category: 'other', providerId: '', provider: 'County college', completedOn: '2026-10-01', points: '25' }))
  t.equal(more.statusCode, 200)
  t.match(more.body, '60 of 60 points, 35 of 30 approved')
  t.match(more.body, /<button type="submit">Apply for recertification<\/button>/, 'enabled now')

  const applied = await postForm(app, janeJar, `${page}/apply`, { _csrf: await fresh() })
  t.equal(applied.statusCode, 200)
  t.match(applied.body, 'Your application was sent (60 points, 35 approved).')
  t.match(applied.body, 'Your application of 4 December 2026 (60 points, 35 approved) is waiting for staff review.')
  t.match(applied.body, 'counted by your application')
  t.match(applied.body, /<button type="submit" disabled/, 'no second application while one waits')
  t.match((await getPage(app, janeJar, '/account')).body, 'application of 4 December 2026 waiting for review')

  const twice = await postForm(app, janeJar, `${page}/apply`, { _csrf: await fresh() })
  t.equal(twice.statusCode, 409)
  t.match(twice.body, 'already waiting for review')

  const rows = await app.sql<Array<{ id: string, title: string, applicationId: string | null }>>`select id, title, application_id as "applicationId" from ce_activities where credential_id = ${jane.id} and removed_at is null`
  const frozen = rows.find((r) => r.title === 'Phlebotomy workshop')
  const outside = rows.find((r) => r.title === 'Before this period')
  t.not(frozen?.applicationId, null)
  t.equal(outside?.applicationId, null, 'the activity outside the period is not counted by the application')
  const keep = await postForm(app, janeJar, `${page}/activities/${frozen?.id ?? ''}/remove`, { _csrf: await fresh() })
  t.equal(keep.statusCode, 409)
  t.match(keep.body, '&quot;Phlebotomy workshop&quot; is counted by recertification application')
  const gone = await postForm(app, janeJar, `${page}/activities/${outside?.id ?? ''}/remove`, { _csrf: await fresh() })
  t.equal(gone.statusCode, 200)
  t.match(gone.body, 'The activity was removed from your record.')
  t.same((await activities()).map((a) => a.title).sort(), ['Infection control update', 'Pharmacology refresher', 'Phlebotomy workshop'])
})

t.test('after staff reject, the page shows the decision with its reason, and the activities can be removed again', async (t) => {
  const [pending] = await app.sql<Array<{ id: string }>>`select id from recertification_applications where credential_id = ${jane.id} and state = 'pending'`
  const rejected = await app.app.inject({ method: 'POST', url: `/api/v1/recertification-applications/${pending?.id ?? ''}/reject`, headers: app.auth, payload: { reason: 'The phlebotomy workshop certificate is unsigned; please upload the signed copy.' } })
  t.equal(rejected.statusCode, 200, rejected.body)
  const shown = await getPage(app, janeJar, page)
  t.match(shown.body, 'Your latest application (4 December 2026) was <strong>rejected</strong> on 4 December 2026. Reason: The phlebotomy workshop certificate is unsigned; please upload the signed copy.')
  t.notMatch(shown.body, 'counted by your application', 'the activities are back on the record')
  t.notMatch(shown.body, 'waiting for staff review')
  t.match(shown.body, /<button type="submit">Apply for recertification<\/button>/, 'she may apply again')
})

t.test('a multipart form beyond the limits (too many fields, two files) is a page saying so, not a JSON problem', async (t) => {
  const fields: Record<string, string> = { _csrf: await fresh() }
  for (let i = 0; i < 12; i++) fields[`extra${i}`] = 'x'
  const many = await postMultipart(app, janeJar, `${page}/activities`, fields)
  t.equal(many.statusCode, 400)
  t.match(many.headers['content-type'], /^text\/html/)
  t.match(many.body, 'The form could not be read')
  const twoFiles = await postMultipart(app, janeJar, `${page}/credentials`, { _csrf: await fresh(), image: { bytes: PDF, filename: 'a.png', type: 'image/png' }, other: { bytes: PDF, filename: 'b.png', type: 'image/png' } })
  t.equal(twoFiles.statusCode, 400)
  t.match(twoFiles.body, 'The form could not be read')
})
