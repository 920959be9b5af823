import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import { PNG } from 'pngjs'
import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, type TestApp } from '../helpers/build-app.js'
import { consoleCsrf, consoleStaff } from '../helpers/console.js'
import { testNeeding } from '../helpers/system-tools.js'

const NOW = new Date('2026-03-31T12:00:00Z')
type Staff = Awaited<ReturnType<typeof consoleStaff>>

const NEW = {
  name: 'Phlebotomy Technician',
  description: 'Certified Phlebotomy Technician.',
  narrative: 'Passed the phlebotomy exam.',
  criteriaUrl: '',
  achievementType: 'Certification',
  validityMonths: '24',
  ceMinPoints: '60',
  ceMinApprovedPoints: '30',
  ceGraceMonths: '3',
  exam: 'yes',
  feeAmount: '150',
  feeCurrency: 'usd',
  feeReference: 'https://aama.example/renew'
}

/** The hidden fields of a confirmation page: what its button posts. */
const hiddenFields = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].filter((m) => m[1] !== '_csrf').map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&').replace(/&#39;/g, '\'').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>')]))

/** The page's text with tags dropped and whitespace folded, for assertions on sentences. */
const words = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, '\'').replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ')

function solidPng (width: number, height: number): Buffer {
  const png = new PNG({ width, height })
  for (let i = 0; i < width * height; i++) png.data.set([20, 120, 200, 255], i * 4)
  return PNG.sync.write(png)
}
const SEAL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100"><circle cx="50" cy="50" r="48" fill="#aa0000"/></svg>'

/** A multipart upload as a browser sends the design page's image form, with the page's CSRF token. */
async function upload (app: TestApp, staff: Staff, pageUrl: string, action: string, file: { filename: string, type: string, bytes: Buffer | string }, fields: Record<string, string> = { confirmed: 'yes' }): Promise<LightMyRequestResponse> {
  const csrf = consoleCsrf((await staff.page(pageUrl)).body)
  const boundary = '----tessera-test-boundary'
  const parts = [
    ...Object.entries({ _csrf: csrf, ...fields }).map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${file.filename}"\r\nContent-Type: ${file.type}\r\n\r\n`),
    Buffer.isBuffer(file.bytes) ? file.bytes : Buffer.from(file.bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`)
  ]
  return staff.jar.take(await app.app.inject({ method: 'POST', url: action, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...staff.jar.header() }, payload: Buffer.concat(parts) }))
}

t.test('a registrar defines an achievement with rules, previews the advice holders will read, edits the rules (the advice changes), and archives it, each after a confirmation', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const staff = await consoleStaff(app, 'registrar', { name: 'Rita Registrar' })
  const count = async (): Promise<number> => (await app.sql`select count(*)::int as n from achievements`)[0]!.n

  const list = await staff.page('/console/achievements')
  t.equal(list.statusCode, 200)
  t.match(list.body, /<h2 id="new">New achievement<\/h2>/)
  t.match(list.body, /aria-current="page">Achievements/)

  const preview = await staff.submit('/console/achievements', '/console/achievements', { ...NEW, step: 'preview' })
  t.equal(preview.statusCode, 200)
  const previewed = words(preview.body)
  t.match(previewed, /Preview: what holders would read under the rules typed \(not saved\)/)
  t.match(previewed, /A badge expiring in 6 months 30 September 2026 It can be renewed by continuing education until 30 December 2026, or by passing the certification exam again\./)
  t.match(previewed, /A badge that expired 1 month ago 28 February 2026 It can still be renewed by continuing education until 28 May 2026; after that, only by passing the certification exam again\./)
  t.match(previewed, /A badge that expired 4 months ago 30 November 2025 Renewal by continuing education closed on 28 February 2026\. It can be renewed by passing the certification exam again\./)
  t.match(preview.body, /value="Phlebotomy Technician"/, 'the form keeps what was typed')
  t.equal(await count(), 0, 'a preview saves nothing')

  const refused = await staff.submit('/console/achievements', '/console/achievements', { ...NEW, feeCurrency: 'US' })
  t.equal(refused.statusCode, 400)
  t.match(words(refused.body), /"Renewal fee currency" must be a three-letter ISO 4217 code such as USD\./)
  t.match((await staff.submit('/console/achievements', '/console/achievements', { ...NEW, validityMonths: 'two' })).body.replace(/&quot;/g, '"'), /"Validity \(months\)" must be a whole number\./)
  t.match((await staff.submit('/console/achievements', '/console/achievements', { ...NEW, ceMinPoints: '' })).body.replace(/&quot;/g, '"'), /"CE minimum points" is needed to offer continuing education/)

  const asked = await staff.submit('/console/achievements', '/console/achievements', NEW)
  t.equal(asked.statusCode, 200)
  t.match(asked.body, /Define “Phlebotomy Technician”\?/)
  t.match(words(asked.body), /Renewal by continuing education: 60 points \(30 of them approved\), up to 3 months after expiry; or the exam\. Renewal fee 150\.00 USD/)
  t.match(words(asked.body), /It can still be renewed by continuing education until 28 May 2026/, 'the confirmation shows the advice too')
  t.equal(await count(), 0, 'nothing defined before confirming')
  const created = await staff.submit('/console/achievements', '/console/achievements', hiddenFields(asked.body))
  t.equal(created.statusCode, 303)
  const id = /^\/console\/achievements\/([\w-]+)\?done=created$/.exec(String(created.headers.location))?.[1] ?? ''
  t.ok(id, 'to the new achievement\'s page')
  const [row] = await app.sql`select name, achievement_type, validity_months, recertification, archived_at from achievements where id = ${id}`
  t.same(row, {
    name: 'Phlebotomy Technician',
    achievement_type: 'Certification',
    validity_months: 24,
    recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true, renewalFee: { amount: 150, currency: 'USD', reference: 'https://aama.example/renew' } },
    archived_at: null
  })

  const pageUrl = `/console/achievements/${id}`
  const page = await staff.page(String(created.headers.location))
  t.match(page.body, /The achievement is defined/)
  t.match(words(page.body), /What holders read under these rules/)
  t.match(words(page.body), /after that, only by passing the certification exam again\./)
  t.match(page.body, /0 issued/)

  const edited = { ...NEW, feeCurrency: 'USD', ceGraceMonths: '6', exam: 'no' }
  const editPreview = await staff.submit(pageUrl, pageUrl, { ...edited, step: 'preview' })
  t.equal(editPreview.statusCode, 200)
  const shown = words(editPreview.body)
  t.match(shown, /A badge expiring in 6 months 30 September 2026 It can be renewed by continuing education until 30 March 2027\./, 'no exam: continuing education only')
  t.notMatch(shown, /or by passing the certification exam again/)
  t.match(shown, /A badge that expired 4 months ago 30 November 2025 It can still be renewed by continuing education until 30 May 2026; after that, it can no longer be renewed\./)
  t.equal((await app.sql`select recertification from achievements where id = ${id}`)[0]!.recertification.exam, true, 'the preview saved nothing')

  const { exam: _unticked, ...withoutExam } = edited
  const editAsked = await staff.submit(pageUrl, pageUrl, { ...withoutExam, name: 'Phlebotomy Technician (CPT)' })
  t.equal(editAsked.statusCode, 200)
  const consequences = words(editAsked.body)
  t.match(consequences, /The name changes from “Phlebotomy Technician” to “Phlebotomy Technician \(CPT\)”\./)
  t.match(consequences, /The recertification rules change from “Renewal by continuing education: 60 points \(30 of them approved\), up to 3 months after expiry; or the exam\./)
  t.match(consequences, /to “Renewal by continuing education: 60 points \(30 of them approved\), up to 6 months after expiry\./)
  t.match(consequences, /after that, it can no longer be renewed/, 'the confirmation shows what holders will read')
  const saved = await staff.submit(pageUrl, pageUrl, hiddenFields(editAsked.body))
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, `${pageUrl}?done=saved`)
  const [after] = await app.sql`select name, recertification from achievements where id = ${id}`
  t.same(after, { name: 'Phlebotomy Technician (CPT)', recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 6 }, exam: false, renewalFee: { amount: 150, currency: 'USD', reference: 'https://aama.example/renew' } } })
  t.match(words((await staff.page(pageUrl)).body), /What holders read under these rules .* after that, it can no longer be renewed\./, 'the page reads the saved rules')
  const again = await staff.submit(pageUrl, pageUrl, { ...withoutExam, name: 'Phlebotomy Technician (CPT)', confirmed: 'yes' })
  t.equal(again.headers.location, `${pageUrl}?done=unchanged`, 'saving the form unchanged changes nothing')

  const archiveAsked = await staff.submit(pageUrl, `${pageUrl}/archive`, {})
  t.equal(archiveAsked.statusCode, 200)
  t.match(words(archiveAsked.body), /No new badges can be issued for it .* existing badges stay valid/)
  t.equal((await app.sql`select archived_at from achievements where id = ${id}`)[0]!.archived_at, null, 'not archived before confirming')
  const archived = await staff.submit(pageUrl, `${pageUrl}/archive`, { confirmed: 'yes' })
  t.equal(archived.headers.location, `${pageUrl}?done=archived`)
  t.ok((await app.sql`select archived_at from achievements where id = ${id}`)[0]!.archived_at)
  const issuing = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: id, recipient: { name: 'Ana Ruiz', email: 'ana@example.org' } } })
  t.equal(issuing.statusCode, 409, 'no new badges for an archived achievement')
  t.match((await staff.page('/console/achievements')).body, /Archived on 31 March 2026/)
  t.equal((await staff.submit(pageUrl, `${pageUrl}/unarchive`, { confirmed: 'yes' })).headers.location, `${pageUrl}?done=unarchived`)

  const trail = await app.sql<Array<{ action: string, actor: string }>>`select action, actor from audit_events where subject_type = 'achievement' and subject_id = ${id} order by id`
  t.same(trail.map((e) => e.action), ['achievement.created', 'achievement.edited', 'achievement.archived', 'achievement.unarchived'])
  t.ok(trail.every((e) => e.actor === `staff:${staff.user.id}`), 'the staff user is the actor of each')
  t.match((await staff.page(pageUrl)).body, /<td>Rita Registrar<\/td><td>achievement\.edited<\/td>/, 'the page\'s audit trail names them')
})

testNeeding(['pdftotext'], 'a registrar designs the certificate: colours, wording and an uploaded PNG and SVG, previewed before and after saving; a bad image is refused in the check\'s words', {}, async (t) => {
  const app = await build(t, { clock: () => NOW })
  const { id } = await createAchievement(app, CMA_ACHIEVEMENT)
  const staff = await consoleStaff(app, 'registrar')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-console-design-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const pdfText = (response: LightMyRequestResponse, name: string): string => {
    t.equal(response.statusCode, 200, `${name}: ${response.statusCode === 200 ? 'a PDF' : response.body.slice(0, 300)}`)
    t.equal(response.headers['content-type'], 'application/pdf')
    t.match(String(response.headers['content-disposition']), /^inline/)
    t.equal(response.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-')
    writeFileSync(path.join(dir, name), response.rawPayload)
    return execFileSync('pdftotext', ['-raw', path.join(dir, name), '-']).toString('utf8').replace(/\s+/g, ' ')
  }
  const designUrl = `/console/achievements/${id}/design`
  const designs = async (): Promise<number> => (await app.sql`select count(*)::int as n from achievement_designs where achievement_id = ${id}`)[0]!.n

  const page = await staff.page(designUrl)
  t.equal(page.statusCode, 200)
  t.match(page.body, /<code>\{holderName\}<\/code>: the holder&#39;s name/, 'the placeholders are explained')
  t.match(page.body, /This achievement uses the default design\./)
  t.match(pdfText(await staff.page(`${designUrl}/preview/certificate.pdf`), 'default.pdf'), /This certifies that Alex Sample has earned CMA \(AAMA\)/)

  const settings = { primaryColor: '#7B2D26', accentColor: '', titleLine: 'Certificate of Certification', statementBefore: 'Be it known that', statementAfter: 'holds {achievementName} until {validUntil}', signatory1Name: 'Dana Whitfield', signatory1Title: 'Executive Director', signatory2Name: '', signatory2Title: '' }
  const unsaved = await staff.submit(designUrl, `${designUrl}/preview/certificate.pdf`, { ...settings, titleLine: 'Draft title for {achievementName}' })
  t.match(pdfText(unsaved, 'unsaved.pdf'), /Draft title for CMA \(AAMA\)/, 'the preview draws the settings typed')
  t.equal(await designs(), 0, 'a preview saves nothing')

  const badWording = await staff.submit(designUrl, designUrl, { ...settings, statementBefore: 'Be it known that {holdrName}' })
  t.equal(badWording.statusCode, 400)
  t.match(badWording.body, /&quot;statementBefore&quot; names \{holdrName\}, which is not a placeholder/, 'the capability\'s words')
  t.match((await staff.submit(designUrl, designUrl, { ...settings, primaryColor: 'red' })).body, /&quot;Primary colour&quot; must be a colour as #rrggbb/)

  const asked = await staff.submit(designUrl, designUrl, settings)
  t.equal(asked.statusCode, 200)
  t.match(words(asked.body), /Colours: primary #7b2d26, accent the default/)
  t.match(words(asked.body), /Signatories: Dana Whitfield, Executive Director\./)
  t.equal(await designs(), 0, 'nothing saved before confirming')
  const saved = await staff.submit(designUrl, designUrl, hiddenFields(asked.body))
  t.equal(saved.statusCode, 303)
  t.equal(saved.headers.location, `${designUrl}?done=saved`)
  const [design] = await app.sql`select primary_color, accent_color, title_line, statement_before, signatories from achievement_designs where achievement_id = ${id}`
  t.same(design, { primary_color: '#7b2d26', accent_color: null, title_line: 'Certificate of Certification', statement_before: 'Be it known that', signatories: [{ name: 'Dana Whitfield', title: 'Executive Director' }] })

  const certificate = pdfText(await staff.page(`${designUrl}/preview/certificate.pdf`), 'saved.pdf')
  t.match(certificate, /Certificate of Certification/)
  t.match(certificate, /Be it known that Alex Sample holds CMA \(AAMA\) until 31 March 2031/, 'the new wording, its placeholders filled in')
  t.match(certificate, /Dana Whitfield/)
  t.match(certificate, /SAMPLE/)
  t.match(pdfText(await staff.page(`${designUrl}/preview/wallet-card.pdf`), 'card.pdf'), /Wallet card/)

  const logo = await upload(app, staff, designUrl, `${designUrl}/images/logo`, { filename: 'logo.png', type: 'image/png', bytes: solidPng(60, 40) })
  t.equal(logo.statusCode, 303, logo.statusCode === 303 ? 'the PNG is stored' : logo.body)
  t.equal(logo.headers.location, `${designUrl}?done=image-set`)
  t.equal((await upload(app, staff, designUrl, `${designUrl}/images/seal`, { filename: 'seal.svg', type: 'image/svg+xml', bytes: SEAL_SVG })).statusCode, 303, 'the SVG is stored')
  const images = await app.sql`select slot, media_type from achievement_design_images where achievement_id = ${id} order by slot`
  t.same(images, [{ slot: 'logo', media_type: 'image/png' }, { slot: 'seal', media_type: 'image/svg+xml' }])
  const withImages = await staff.page(designUrl)
  t.match(withImages.body, new RegExp(`<img src="/achievements/${id}/design/logo\\?v=[\\w-]+" alt="The current logo"`), 'the page shows the stored image')
  const served = await app.app.inject({ method: 'GET', url: /<img src="(\/achievements\/[^"]+\/design\/logo\?v=[^"]+)"/.exec(withImages.body)![1]! })
  t.equal(served.headers['content-type'], 'image/png', 'from the public image route')
  const previewImage = await staff.page(`${designUrl}/preview-image.png`)
  t.equal(previewImage.headers['content-type'], 'image/png')
  t.same([PNG.sync.read(previewImage.rawPayload).width, PNG.sync.read(previewImage.rawPayload).height], [1200, 627], 'the social preview image of a sample badge')

  const bad = await upload(app, staff, designUrl, `${designUrl}/images/artwork`, { filename: 'artwork.png', type: 'image/png', bytes: 'this is not a PNG at all' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, /role="alert" class="confirm">The image was refused: /, 'the refusal in the image check\'s words, on the design page')
  t.match(bad.body, /<h1>Design: CMA \(AAMA\)<\/h1>/)
  const scripted = await upload(app, staff, designUrl, `${designUrl}/images/artwork`, { filename: 'a.svg', type: 'image/svg+xml', bytes: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)" width="10" height="10"/>' })
  t.equal(scripted.statusCode, 422, 'an SVG with an event handler is refused')
  const oversized = await upload(app, staff, designUrl, `${designUrl}/images/artwork`, { filename: 'big.png', type: 'image/png', bytes: Buffer.concat([solidPng(10, 10), Buffer.alloc(600 * 1024)]) })
  t.equal(oversized.statusCode, 413)
  t.match(oversized.body, /The image is over 524288 bytes; at most 524288 \(512 KiB\) is accepted\./, 'the design API\'s cap')
  const unticked = await upload(app, staff, designUrl, `${designUrl}/images/artwork`, { filename: 'a.png', type: 'image/png', bytes: solidPng(10, 10) }, {})
  t.equal(unticked.statusCode, 400)
  t.match(unticked.body, /Tick the box to confirm/)
  t.equal((await app.sql`select count(*)::int as n from achievement_design_images where achievement_id = ${id} and slot = 'artwork'`)[0]!.n, 0, 'nothing stored for the refusals')

  const removeAsked = await staff.submit(designUrl, `${designUrl}/images/seal/remove`, {})
  t.match(words(removeAsked.body), /Remove the seal of “CMA \(AAMA\)”\?/)
  t.equal((await staff.submit(designUrl, `${designUrl}/images/seal/remove`, { confirmed: 'yes' })).headers.location, `${designUrl}?done=image-removed`)
  t.same(await app.sql`select slot from achievement_design_images where achievement_id = ${id}`, [{ slot: 'logo' }])

  const trail = await app.sql<Array<{ action: string, actor: string }>>`select action, actor from audit_events where subject_type = 'achievement' and subject_id = ${id} and action like 'achievement_design.%' order by id`
  t.same(trail.map((e) => e.action), ['achievement_design.updated', 'achievement_design.image_set', 'achievement_design.image_set', 'achievement_design.image_removed'])
  t.ok(trail.every((e) => e.actor === `staff:${staff.user.id}`), 'the staff user is the actor of each')

  t.equal((await staff.submit(designUrl, `${designUrl}/reset`, { confirmed: 'yes' })).headers.location, `${designUrl}?done=reset`)
  t.equal(await designs(), 0, 'back on the defaults')
})

t.test('a viewer reads achievements and their design but every action route answers 403 and changes nothing', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const { id } = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { continuingEducation: { minPoints: 60 }, exam: true } })
  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${id}/design`, headers: app.auth, payload: { titleLine: 'Certificate' } })
  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${id}/design/images/logo`, headers: { ...app.auth, 'content-type': 'image/png' }, payload: solidPng(20, 20) })
  const viewer = await consoleStaff(app, 'viewer')
  const before = await app.sql`select a.name, a.recertification, a.archived_at, d.title_line, d.updated_at from achievements a join achievement_designs d on d.achievement_id = a.id where a.id = ${id}`

  const list = await viewer.page('/console/achievements')
  t.equal(list.statusCode, 200)
  t.match(list.body, /CMA \(AAMA\)/)
  t.notMatch(list.body, /New achievement/, 'no form to define one')
  const page = await viewer.page(`/console/achievements/${id}`)
  t.equal(page.statusCode, 200)
  t.match(words(page.body), /What holders read under these rules/)
  t.notMatch(page.body, /Save…|Archive…/, 'no edit or archive forms')
  const design = await viewer.page(`/console/achievements/${id}/design`)
  t.equal(design.statusCode, 200)
  t.notMatch(design.body, /enctype="multipart\/form-data"|Save…|Remove the/, 'no upload, save or remove forms')
  t.equal((await viewer.page(`/console/achievements/${id}/design/preview/certificate.pdf`)).headers['content-type'], 'application/pdf', 'the saved design\'s preview')

  const pageUrl = `/console/achievements/${id}`
  const form = { ...NEW, confirmed: 'yes' }
  for (const [action, fields] of [
    ['/console/achievements', form],
    [pageUrl, form],
    [`${pageUrl}/archive`, { confirmed: 'yes' }],
    [`${pageUrl}/unarchive`, { confirmed: 'yes' }],
    [`${pageUrl}/design`, { titleLine: 'Changed', confirmed: 'yes' }],
    [`${pageUrl}/design/preview/certificate.pdf`, { titleLine: 'Changed' }],
    [`${pageUrl}/design/images/logo/remove`, { confirmed: 'yes' }],
    [`${pageUrl}/design/reset`, { confirmed: 'yes' }]
  ] as const) {
    const answer = await viewer.submit(pageUrl, action, fields)
    t.equal(answer.statusCode, 403, `${action}: refused`)
    t.match(answer.body, /Your role \(viewer\) does not allow this/)
  }
  const uploaded = await upload(app, viewer, `${pageUrl}/design`, `${pageUrl}/design/images/seal`, { filename: 'seal.svg', type: 'image/svg+xml', bytes: SEAL_SVG })
  t.equal(uploaded.statusCode, 403, 'an upload: refused')
  t.match(uploaded.body, /Your role \(viewer\) does not allow this/)

  t.same(await app.sql`select a.name, a.recertification, a.archived_at, d.title_line, d.updated_at from achievements a join achievement_designs d on d.achievement_id = a.id where a.id = ${id}`, before, 'nothing changed')
  t.same(await app.sql`select slot from achievement_design_images where achievement_id = ${id}`, [{ slot: 'logo' }])
  t.equal((await app.sql`select count(*)::int as n from achievements`)[0]!.n, 1)
  t.equal((await app.sql`select count(*)::int as n from audit_events where actor like 'staff:%' and subject_type = 'achievement'`)[0]!.n, 0)
})
