import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PNG } from 'pngjs'
import t from 'tap'
import { extractFromPng } from '../src/capabilities/bake/png.js'
import { svgToPng } from '../src/infrastructure/web/images.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { CookieJar, csrfToken, getPage, postForm } from './helpers/portal.js'

/**
 * Achievements are edited (only versions signed afterwards carry the change),
 * archived (no new credentials or recertifications; badges untouched) and
 * given an https image that is fetched once, checked and stored, or refused
 * with the reason. Images come from a real HTTP server on 127.0.0.1, reached
 * under the development loopback allowance (OUTBOUND_ALLOW_LOOPBACK).
 */

const NOW = new Date('2026-12-04T12:00:00Z')
const DEV_LOOPBACK = { OUTBOUND_ALLOW_LOOPBACK: 'true' }
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }

/** A 64×64 square of #2a9d8f: its pixels tell it from the badge the service draws. */
const TEAL_PNG = svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#2a9d8f"/></svg>')
const SAFE_SVG = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><defs><linearGradient id="g"><stop offset="0" stop-color="#e76f51"/></linearGradient></defs><circle cx="20" cy="20" r="18" fill="url(#g)"/></svg>'

interface ImageServer { base: string, hits: Map<string, number>, close: () => Promise<void> }

/** A real HTTP server with one image and every way an image can be wrong; it counts the requests per path. */
async function imageServer (): Promise<ImageServer> {
  const hits = new Map<string, number>()
  const routes: Record<string, { status?: number, type: string, body: Buffer | string, headers?: Record<string, string> }> = {
    '/badge.png': { type: 'image/png', body: TEAL_PNG },
    '/badge.svg': { type: 'image/svg+xml', body: SAFE_SVG },
    '/page.png': { type: 'image/png', body: '<!doctype html><html><body>Not an image</body></html>' },
    '/broken.png': { type: 'image/png', body: TEAL_PNG.subarray(0, 40) },
    '/huge.png': { type: 'image/png', body: Buffer.concat([TEAL_PNG.subarray(0, 8), Buffer.alloc(300 * 1024)]) },
    '/script.svg': { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>' },
    '/tracker.svg': { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="https://tracker.example/pixel.png" width="10" height="10"/></svg>' },
    '/moved.png': { status: 302, type: 'text/plain', body: '', headers: { location: '/badge.png' } }
  }
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const route = routes[path]
    if (route === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('no such image')
      return
    }
    response.writeHead(route.status ?? 200, { 'content-type': route.type, ...route.headers }).end(route.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, hits, close: async () => { await new Promise((resolve) => server.close(resolve)) } }
}

const staff = async (app: TestApp, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  await app.app.inject({ method, url: `/api/v1${url}`, headers: app.auth, ...(payload !== undefined ? { payload: payload as object } : {}) })

const auditOf = async (app: TestApp, id: string): Promise<Array<{ action: string, before: any, after: any, details: any }>> =>
  (await staff(app, 'GET', `/audit-events?subjectType=achievement&subjectId=${id}`)).json().items

t.test('an https image is fetched once when the achievement is defined, stored as a data: URI, and is what every badge carries', async (t) => {
  const server = await imageServer()
  t.teardown(server.close)
  const app = await build(t, { clock: () => NOW, env: DEV_LOOPBACK })

  const url = `${server.base}/badge.png`
  const created = await staff(app, 'POST', '/achievements', { ...CMA_ACHIEVEMENT, image: { id: url, caption: 'CMA (AAMA) seal' } })
  t.equal(created.statusCode, 201)
  const achievement = created.json()
  t.same(achievement.achievement.image, { id: `data:image/png;base64,${TEAL_PNG.toString('base64')}`, type: 'Image', caption: 'CMA (AAMA) seal' }, 'the image itself is stored, the caption kept')
  t.equal(achievement.imageFetchedFrom, url, 'and where it came from')
  t.equal(server.hits.get('/badge.png'), 1, 'fetched once')

  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  t.equal(issued.credential.credentialSubject.achievement.image.id, achievement.achievement.image.id, 'the signed credential carries the image, not a link that could change')
  const path = new URL(issued.url).pathname
  const badge = await app.app.inject({ url: `${path}/badge.png` })
  t.equal(badge.statusCode, 200)
  const drawn = PNG.sync.read(badge.rawPayload)
  t.same([drawn.width, drawn.height, ...drawn.data.subarray(0, 3)], [64, 64, 0x2a, 0x9d, 0x8f], 'badge.png is the fetched image')
  t.equal(extractFromPng(badge.rawPayload), JSON.stringify(issued.credential), 'with the credential baked in')
  const page = await app.app.inject({ url: path, headers: BROWSER })
  t.equal(page.statusCode, 200)
  t.equal(server.hits.get('/badge.png'), 1, 'issuing and showing the badge fetch nothing')

  const svg = await staff(app, 'PATCH', `/achievements/${achievement.id}`, { image: { id: `${server.base}/badge.svg` } })
  t.equal(svg.statusCode, 200, 'an SVG without script or outside references is accepted too')
  t.equal(svg.json().achievement.image.id, `data:image/svg+xml;base64,${Buffer.from(SAFE_SVG).toString('base64')}`)
  t.equal(svg.json().imageFetchedFrom, `${server.base}/badge.svg`)
  const oldBadge = PNG.sync.read((await app.app.inject({ url: `${path}/badge.png` })).rawPayload)
  t.same([oldBadge.width, oldBadge.height, ...oldBadge.data.subarray(0, 3)], [64, 64, 0x2a, 0x9d, 0x8f], 'a badge signed before the edit keeps the image it was signed with')
  const newer = await issue(app, { achievementId: achievement.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } })
  const newBadge = await app.app.inject({ url: `${new URL(newer.url).pathname}/badge.svg` })
  t.match(newBadge.body, /stop-color="#e76f51"/, 'a badge issued after it has the new one')
  const [edited] = await auditOf(app, achievement.id)
  t.match(edited, { action: 'achievement.edited', details: { changed: ['image'], imageFetchedFrom: `${server.base}/badge.svg` } })
  t.match(edited?.after.image.id, /^data:image\/svg\+xml;base64,… \(\d+ characters, SHA-256 [0-9a-f]{64}\)$/, 'the audit trail summarises a data: image instead of copying it')
})

t.test('an image that cannot be used is refused with a 422 naming the URL and why, and nothing is saved', async (t) => {
  const server = await imageServer()
  t.teardown(server.close)
  const app = await build(t, { clock: () => NOW, env: DEV_LOOPBACK })
  const cases: Array<[string, string, RegExp]> = [
    ['/page.png', 'not-an-image', /: it is not a PNG or an SVG image\.$/],
    ['/broken.png', 'not-an-image', /: it is not a readable PNG \(it is truncated\)\.$/],
    ['/huge.png', 'too-large', /: it is larger than 128 KiB\.$/],
    ['/script.svg', 'not-an-image', /: the SVG holds a <script> element, which badge images may not\.$/],
    ['/tracker.svg', 'not-an-image', /: the SVG holds a link or reference to another document/],
    ['/moved.png', 'redirect', /: it redirects elsewhere \(HTTP 302\); redirects are not followed, give the final URL\.$/],
    ['/gone.png', 'http-status', /: the server answered HTTP 404\.$/]
  ]
  for (const [path, reason, why] of cases) {
    const url = `${server.base}${path}`
    const response = await staff(app, 'POST', '/achievements', { ...CMA_ACHIEVEMENT, image: { id: url } })
    t.equal(response.statusCode, 422, path)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${path}: problem+json`)
    const problem = response.json()
    t.match(problem, { type: 'urn:tessera:problem:achievement_image_refused', url, reason }, `${path}: ${reason}`)
    t.ok(problem.detail.startsWith(`The image at "${url}" was not stored: `), `${path}: the detail names the URL`)
    t.match(problem.detail, why, `${path}: and says why`)
  }
  t.equal(server.hits.get('/badge.png'), undefined, 'the redirect was not followed')
  t.same((await staff(app, 'GET', '/achievements')).json().items, [], 'no achievement was defined by a refused request')

  const achievement = await createAchievement(app)
  const refused = await staff(app, 'PATCH', `/achievements/${achievement.id}`, { name: 'Renamed', image: { id: `${server.base}/page.png` } })
  t.equal(refused.statusCode, 422, 'an edit with a bad image is refused whole')
  t.equal((await staff(app, 'GET', `/achievements/${achievement.id}`)).json().achievement.name, 'CMA (AAMA)', 'nothing of it was saved')
})

t.test('the outbound address policy holds for images: private and loopback addresses are refused without connecting', async (t) => {
  const server = await imageServer()
  t.teardown(server.close)
  const port = new URL(server.base).port
  const app = await build(t, { clock: () => NOW })
  const cases: Array<[string, string, RegExp]> = [
    [`https://localhost:${port}/badge.png`, 'private-address', /the host "localhost" is on a private or local network; only public addresses are fetched/],
    ['https://10.20.30.40/badge.png', 'private-address', /the host "10\.20\.30\.40" is on a private or local network/],
    ['https://[::1]/badge.png', 'private-address', /the host "::1" is on a private or local network/],
    [`${server.base}/badge.png`, 'not-https', /only https images are fetched/],
    ['https://no-such-host.invalid/badge.png', 'unresolvable', /the host "no-such-host\.invalid" could not be found/]
  ]
  for (const [url, reason, why] of cases) {
    const response = await staff(app, 'POST', '/achievements', { ...CMA_ACHIEVEMENT, image: { id: url } })
    t.equal(response.statusCode, 422, url)
    t.match(response.json(), { type: 'urn:tessera:problem:achievement_image_refused', url, reason, detail: why }, `${url}: ${reason}`)
  }
  t.same([...server.hits.keys()], [], 'the local server was never reached')

  const devApp = await build(t, { clock: () => NOW, env: DEV_LOOPBACK })
  const stillPrivate = await staff(devApp, 'POST', '/achievements', { ...CMA_ACHIEVEMENT, image: { id: 'https://10.20.30.40/badge.png' } })
  t.match(stillPrivate.json(), { reason: 'private-address' }, 'the development setting allows loopback only, not the private network')
})

t.test('editing an achievement changes what later versions are signed with; signed versions and their pages keep what was signed', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const before = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })

  const edit = { name: 'CMA (AAMA)®', description: 'Certified Medical Assistant, recognised nationally.', criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam (2027 edition).' }, validityMonths: 36, recertification: { exam: true } }
  const response = await staff(app, 'PATCH', `/achievements/${achievement.id}`, edit)
  t.equal(response.statusCode, 200)
  const edited = response.json()
  t.match(edited, { id: achievement.id, validityMonths: 36, recertification: { exam: true }, updatedAt: NOW.toISOString(), archived: false, achievement: { name: edit.name, description: edit.description, criteria: edit.criteria } })
  t.same((await staff(app, 'GET', `/achievements/${achievement.id}`)).json(), edited, 'GET answers the edited achievement')
  t.equal((await app.app.inject({ url: new URL(achievement.url).pathname })).json().name, edit.name, 'the public Achievement document is the current definition')

  const [event] = await auditOf(app, achievement.id)
  t.match(event, {
    action: 'achievement.edited',
    before: { name: 'CMA (AAMA)', validityMonths: 60, recertification: null },
    after: { name: edit.name, validityMonths: 36, recertification: { exam: true } },
    details: { changed: ['name', 'description', 'criteria', 'validityMonths', 'recertification'] }
  }, 'audited: each changed field before and after')
  t.notOk('achievementType' in event!.after, 'unchanged fields are not in the event')

  const old = await app.app.inject({ url: `/credentials/${before.id}`, headers: { accept: 'application/ld+json' } })
  t.same(JSON.parse(old.body), before.credential, 'the signed credential is byte for byte what was issued')
  t.equal(before.credential.credentialSubject.achievement.name, 'CMA (AAMA)')
  const page = await app.app.inject({ url: `/credentials/${before.id}`, headers: BROWSER })
  t.match(page.body, /CMA \(AAMA\)/)
  t.notMatch(page.body, /CMA \(AAMA\)®|recognised nationally/, 'its page shows what was signed, not the new definition')
  const verified = await app.app.inject({ url: `/credentials/${before.id}/verification` })
  t.match(verified.json(), { verified: true, status: 'valid' }, 'and it still verifies')

  const after = await issue(app, { achievementId: achievement.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } })
  t.match(after.credential.credentialSubject.achievement, { name: edit.name, description: edit.description, criteria: edit.criteria }, 'a credential issued after the edit carries it')
  t.equal(after.credential.validUntil, '2029-12-04T12:00:00Z', 'and the new validity (36 months)')
  const corrected = await staff(app, 'POST', `/credentials/${before.id}/reissue`, { reason: 'correction', recipient: { name: 'Ana María Ruiz' } })
  t.equal(corrected.statusCode, 201)
  t.equal(corrected.json().credential.credentialSubject.achievement.name, edit.name, 'a correction signed after the edit carries the new definition')
  t.equal(corrected.json().credential.validUntil, before.credential.validUntil, 'but keeps the period it corrects: validity changes only new periods')

  const same = await staff(app, 'PATCH', `/achievements/${achievement.id}`, { name: ` ${edit.name} `, criteria: { narrative: edit.criteria.narrative } })
  t.equal(same.statusCode, 200, 'an edit that changes nothing is answered')
  t.same((await auditOf(app, achievement.id)).map((e) => e.action), ['achievement.edited', 'achievement.created'], 'and records nothing')

  const cleared = await staff(app, 'PATCH', `/achievements/${achievement.id}`, { validityMonths: null, recertification: null, achievementType: null })
  t.match(cleared.json(), { validityMonths: null, recertification: null }, 'null removes an optional field')
  t.notOk('achievementType' in cleared.json().achievement)
})

t.test('an edit is validated like a definition: a clear 400 or 404, never a 500', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const bad: Array<[unknown, RegExp]> = [
    [{}, /must NOT have fewer than 1 properties|at least one/i],
    [{ name: '' }, /name/],
    [{ name: null }, /name/],
    [{ issuerId: 'other' }, /issuerId/],
    [{ validityMonths: 0 }, /validityMonths/],
    [{ image: { id: 'ftp://example.org/x.png' } }, /image/]
  ]
  for (const [body, names] of bad) {
    const response = await staff(app, 'PATCH', `/achievements/${achievement.id}`, body)
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.equal(response.json().type, 'urn:tessera:problem:validation_failed', JSON.stringify(body))
    t.match(JSON.stringify(response.json()), names, `${JSON.stringify(body)}: names the field`)
  }
  const missing = await staff(app, 'PATCH', '/achievements/AAAAAAAAAAAA', { name: 'X' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().detail, 'Achievement "AAAAAAAAAAAA" was not found.')
  const readOnly = await staff(app, 'POST', '/api-keys', { name: 'Viewer', scopes: ['achievements:read'] })
  const forbidden = await app.app.inject({ method: 'PATCH', url: `/api/v1/achievements/${achievement.id}`, headers: { authorization: `Bearer ${readOnly.json().key as string}` }, payload: { name: 'X' } })
  t.equal(forbidden.statusCode, 403, 'editing needs achievements:write')
})

t.test('an archived achievement takes no new credentials or recertifications; its badges still verify and can be corrected', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const held = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })

  const archived = await staff(app, 'POST', `/achievements/${achievement.id}/archive`)
  t.equal(archived.statusCode, 200)
  t.match(archived.json(), { archived: true, archivedAt: NOW.toISOString() })
  const again = await staff(app, 'POST', `/achievements/${achievement.id}/archive`)
  t.equal(again.json().archivedAt, NOW.toISOString(), 'archiving twice changes nothing')

  const refusal = (problem: any, what: string): void => {
    t.match(problem, { type: 'urn:tessera:problem:achievement_archived', status: 409, achievementId: achievement.id }, what)
    t.equal(problem.detail, `Achievement "${achievement.id}" ("CMA (AAMA)") was archived on 2026-12-04T12:00:00Z; it takes no ${what.includes('recertif') ? 'recertifications' : 'new credentials'}. Unarchive it first (POST /api/v1/achievements/${achievement.id}/unarchive).`, `${what}: says why and what to do`)
  }
  const single = await staff(app, 'POST', '/credentials', { achievementId: achievement.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } })
  t.equal(single.statusCode, 409)
  t.match(single.headers['content-type'], /^application\/problem\+json/)
  refusal(single.json(), 'issue')

  const other = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'RMA' })
  const batch = await staff(app, 'POST', '/credentials/batch', { items: [{ achievementId: achievement.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } }, { achievementId: other.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } }] })
  t.equal(batch.statusCode, 207)
  t.match(batch.json().summary, { total: 2, created: 1, failed: 1 }, 'the batch issues the rest')
  refusal(batch.json().results[0], 'batch item')

  const jar = new CookieJar()
  const form = await getPage(app, jar, '/order')
  t.equal((await postForm(app, jar, '/order', { _csrf: csrfToken(form.body), name: 'Cy Diaz', email: 'cy@example.com', certificateNumber: 'CMA-654321', certifiedOn: '2024-03-01', consent: 'yes' })).statusCode, 200, 'a badge order from the public form')
  const [order] = (await staff(app, 'GET', '/orders?state=pending')).json().items
  const approval = await staff(app, 'POST', `/orders/${order.id as string}/approve`, { achievementId: achievement.id, validFrom: '2024-03-01T00:00:00Z' })
  t.equal(approval.statusCode, 409)
  refusal(approval.json(), 'order approval')

  const recertify = await staff(app, 'POST', `/credentials/${held.id}/recertify`, { method: 'exam' })
  t.equal(recertify.statusCode, 409)
  refusal(recertify.json(), 'recertification')

  const verified = await app.app.inject({ url: `/credentials/${held.id}/verification` })
  t.match(verified.json(), { verified: true, status: 'valid' }, 'an existing badge still verifies')
  t.equal((await app.app.inject({ url: `/credentials/${held.id}`, headers: BROWSER })).statusCode, 200, 'its page is still served')
  const corrected = await staff(app, 'POST', `/credentials/${held.id}/reissue`, { reason: 'correction', recipient: { name: 'Ana María Ruiz' } })
  t.equal(corrected.statusCode, 201, 'a correction of an existing badge is still allowed')

  const all = (await staff(app, 'GET', '/achievements')).json().items
  t.same(all.map((a: any) => [a.achievement.name, a.archived]), [['CMA (AAMA)', true], ['RMA', false]], 'the list shows archived achievements, marked')
  t.same((await staff(app, 'GET', '/achievements?archived=false')).json().items.map((a: any) => a.id), [other.id], '?archived=false: those in use')
  t.same((await staff(app, 'GET', '/achievements?archived=true')).json().items.map((a: any) => a.id), [achievement.id], '?archived=true: the archived ones')

  const unarchived = await staff(app, 'POST', `/achievements/${achievement.id}/unarchive`)
  t.match(unarchived.json(), { archived: false, archivedAt: null })
  t.equal((await staff(app, 'POST', '/credentials', { achievementId: achievement.id, recipient: { name: 'Bo Chen', email: 'bo@example.com' } })).statusCode, 201, 'unarchived, it is issued again')
  t.same((await auditOf(app, achievement.id)).map((e) => e.action), ['achievement.unarchived', 'achievement.archived', 'achievement.created'], 'archiving and unarchiving are audited, the no-op once only')
  t.equal((await staff(app, 'POST', '/achievements/AAAAAAAAAAAA/archive')).statusCode, 404)
})
