import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { achievementDesignPublicRoutes } from '../../src/channels/api/achievement-design.js'
import { problemSchema } from '../../src/infrastructure/http/common-schemas.js'
import { previewCertificate } from '../../src/capabilities/design/preview-certificate.js'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { testNeeding } from '../helpers/system-tools.js'

const pathOf = (url: string): string => new URL(url).pathname

/** A solid-colour PNG of the given size. */
function solidPng (width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const png = new PNG({ width, height })
  for (let i = 0; i < width * height; i++) png.data.set([r, g, b, 255], i * 4)
  return PNG.sync.write(png)
}

const SEAL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100"><circle cx="50" cy="50" r="48" fill="#ff0000"/></svg>'

const DESIGN = {
  primaryColor: '#7B2D26',
  accentColor: '#e63946',
  titleLine: 'Certificate of Certification',
  statementBefore: 'Be it known that {holderName}, named below,',
  statementAfter: 'holds {achievementName} from {issuerName} until {validUntil}',
  signatories: [{ name: 'Dana Whitfield', title: 'Executive Director' }, { name: 'Lee Park', title: 'Chair, Certifying Board' }]
}

async function putImage (app: TestApp, achievementId: string, slot: string, type: string, body: Buffer | string, headers: Record<string, string> = app.auth) {
  return await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design/images/${slot}`, headers: { ...headers, 'content-type': type }, payload: body })
}

async function setup (t: Test): Promise<{ app: TestApp, achievementId: string, otherId: string }> {
  const app = await build(t, { clock: () => new Date('2026-03-31T00:00:00Z') })
  const { id: achievementId } = await createAchievement(app)
  const { id: otherId } = await createAchievement(app, { name: 'Other badge', description: 'Another achievement, left on the defaults.', criteria: { narrative: 'Did the other thing.' } })
  return { app, achievementId, otherId }
}

t.test('a design is stored and read back: settings, images, and the image served as what it is', async (t) => {
  const { app, achievementId } = await setup(t)
  const empty = await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth })
  t.equal(empty.statusCode, 200)
  t.same(empty.json(), { achievementId, primaryColor: null, accentColor: null, titleLine: null, statementBefore: null, statementAfter: null, signatories: [], images: {}, updatedAt: null, updatedBy: null }, 'no design: the defaults')

  const put = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: DESIGN })
  t.equal(put.statusCode, 200, put.statusCode === 200 ? 'the settings are stored' : put.body)
  const logo = solidPng(60, 40, [0, 255, 0])
  t.equal((await putImage(app, achievementId, 'logo', 'image/png', logo)).statusCode, 200)
  t.equal((await putImage(app, achievementId, 'seal', 'image/svg+xml', SEAL_SVG)).statusCode, 200)

  const got = (await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth })).json()
  t.equal(got.primaryColor, '#7b2d26', 'colours are stored lower-case')
  t.equal(got.accentColor, '#e63946')
  t.equal(got.titleLine, DESIGN.titleLine)
  t.equal(got.statementBefore, DESIGN.statementBefore)
  t.same(got.signatories, DESIGN.signatories)
  t.same(Object.keys(got.images).sort(), ['logo', 'seal'])
  t.equal(got.images.logo.mediaType, 'image/png')
  t.equal(got.images.logo.bytes, logo.length)
  t.equal(got.updatedBy, 'bootstrap')

  const png = await app.app.inject({ method: 'GET', url: pathOf(got.images.logo.url), headers: app.auth })
  t.equal(png.headers['content-type'], 'image/png')
  t.equal(png.headers['x-content-type-options'], 'nosniff')
  t.ok(png.rawPayload.equals(logo), 'the bytes as uploaded')
  const svg = await app.app.inject({ method: 'GET', url: pathOf(got.images.seal.url), headers: app.auth })
  t.match(svg.headers['content-type'], /^image\/svg\+xml/)
  t.match(svg.headers['content-security-policy'], /default-src 'none'.*sandbox/, 'an SVG is served under a CSP that runs and loads nothing')
  t.equal(svg.body, SEAL_SVG)

  const removed = await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design/images/logo`, headers: app.auth })
  t.equal(removed.statusCode, 204)
  t.same(Object.keys((await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth })).json().images), ['seal'])
  t.equal((await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design/images/logo`, headers: app.auth })).statusCode, 404, 'a slot with no image: 404')
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/achievements/NOSUCHACHIEVEMENT0/design', headers: app.auth })).statusCode, 404)
})

t.test('bad images and wording are refused with a problem that says why', async (t) => {
  const { app, achievementId } = await setup(t)
  const refused = async (slot: string, type: string, body: Buffer | string, status: number, code: string, detail: RegExp): Promise<void> => {
    const response = await putImage(app, achievementId, slot, type, body)
    t.equal(response.statusCode, status, `${detail.source}: ${response.body}`)
    t.match(response.headers['content-type'], /^application\/problem\+json/)
    t.equal(response.json().type, `urn:tessera:problem:${code}`)
    t.match(response.json().detail, detail)
  }
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01])
  await refused('logo', 'image/png', jpeg, 422, 'achievement_image_refused', /not a PNG or an SVG|neither a PNG nor UTF-8/)
  await refused('logo', 'image/png', SEAL_SVG, 422, 'achievement_image_refused', /sent as "image\/png" but its bytes are an SVG/)
  await refused('artwork', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>', 422, 'achievement_image_refused', /<script> element/)
  await refused('seal', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image xlink:href="https://evil.example/x.png" width="10" height="10"/></svg>', 422, 'achievement_image_refused', /reference to another document/)
  await refused('seal', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"/>', 422, 'achievement_image_refused', /event handler/)
  const big = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!--${'x'.repeat(600 * 1024)}--></svg>`
  await refused('artwork', 'image/svg+xml', big, 413, 'payload_too_large', /at most 524288 \(512 KiB\)/)
  t.equal((await putImage(app, achievementId, 'logo', 'image/jpeg', jpeg)).statusCode, 415, 'a type other than PNG or SVG: 415')
  t.equal((await putImage(app, achievementId, 'banner', 'image/png', solidPng(2, 2, [0, 0, 0]))).statusCode, 400, 'an unknown slot')

  const wording = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: { statementAfter: 'has earned {achievment}' } })
  t.equal(wording.statusCode, 400)
  t.match(wording.json().detail, /"statementAfter" names \{achievment\}, which is not a placeholder/)
  const colour = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: { primaryColor: 'red' } })
  t.equal(colour.statusCode, 400)
  t.equal((await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth })).json().updatedAt, null, 'nothing refused was stored')
})

t.test('a read-only key reads the design but cannot change it (403); every change is audited with its actor', async (t) => {
  const { app, achievementId } = await setup(t)
  const key = (await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'Viewer', scopes: ['achievements:read'] } })).json()
  const reader = { authorization: `Bearer ${key.key as string}` }
  t.equal((await app.app.inject({ method: 'GET', url: `/api/v1/achievements/${achievementId}/design`, headers: reader })).statusCode, 200)
  const writes = [
    await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: reader, payload: DESIGN }),
    await putImage(app, achievementId, 'logo', 'image/png', solidPng(4, 4, [0, 0, 0]), reader),
    await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design/images/logo`, headers: reader }),
    await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design`, headers: reader })
  ]
  t.same(writes.map((w) => w.statusCode), [403, 403, 403, 403])
  t.match(writes[0]!.json().detail, /lacks the "achievements:write" scope/)

  const writer = (await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'Designer', scopes: ['achievements:write'] } })).json()
  const designer = { authorization: `Bearer ${writer.key as string}` }
  t.equal((await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: designer, payload: DESIGN })).statusCode, 200)
  t.equal((await putImage(app, achievementId, 'logo', 'image/png', solidPng(4, 4, [0, 0, 0]), designer)).statusCode, 200)
  t.equal((await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design/images/logo`, headers: designer })).statusCode, 204)
  t.equal((await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design`, headers: designer })).statusCode, 204)

  const rows = await app.sql<Array<{ action: string, actor: string, before: Record<string, unknown> | null, after: Record<string, unknown> | null }>>`
    select action, actor, before, after from audit_events where subject_type = 'achievement' and subject_id = ${achievementId} and action like 'achievement_design.%' order by id`
  t.same(rows.map((r) => [r.action, r.actor]), [
    ['achievement_design.updated', writer.id],
    ['achievement_design.image_set', writer.id],
    ['achievement_design.image_removed', writer.id],
    ['achievement_design.removed', writer.id]
  ], 'one audit event per change, none for the refused ones, each with the key that made it')
  t.equal(rows[0]!.after?.titleLine, DESIGN.titleLine)
  t.equal(rows[1]!.after?.slot, 'logo')
})

/** Renders page 1 of a PDF at 72 dpi (one pixel a point). */
function render (dir: string, name: string, pdf: Buffer): { png: PNG, text: string, pixel: (x: number, y: number) => [number, number, number] } {
  const file = path.join(dir, `${name}.pdf`)
  writeFileSync(file, pdf)
  execFileSync('pdftoppm', ['-png', '-r', '72', '-singlefile', file, path.join(dir, name)])
  const png = PNG.sync.read(readFileSync(path.join(dir, `${name}.png`)))
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString('utf8')
  const pixel = (x: number, y: number): [number, number, number] => {
    const at = (Math.round(y) * png.width + Math.round(x)) * 4
    return [png.data[at]!, png.data[at + 1]!, png.data[at + 2]!]
  }
  return { png, text, pixel }
}

const near = (actual: [number, number, number], hex: string, tolerance = 24): boolean => {
  const expected = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance)
}

testNeeding(['pdftoppm', 'pdftotext'], 'the certificate and wallet card of a designed achievement carry its wording, colours, logo, seal and signatories; without a design they are as before', {}, async (t) => {
  const { app, achievementId, otherId } = await setup(t)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-design-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const other = await issue(app, { achievementId: otherId, recipient: { name: 'Sam Other', email: 'sam@example.org' } })
  const get = async (url: string, file: string): Promise<Buffer> => (await app.app.inject({ method: 'GET', url: `${pathOf(url)}/${file}` })).rawPayload

  const plain = render(dir, 'plain', await get(issued.url, 'certificate.pdf'))
  const otherBefore = render(dir, 'other-before', await get(other.url, 'certificate.pdf'))
  t.match(plain.text, /This certifies that/)
  t.match(plain.text, /has earned/)

  t.equal((await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: DESIGN })).statusCode, 200)
  t.equal((await putImage(app, achievementId, 'logo', 'image/png', solidPng(60, 40, [0, 255, 0]))).statusCode, 200)
  t.equal((await putImage(app, achievementId, 'seal', 'image/svg+xml', SEAL_SVG)).statusCode, 200)

  const designed = render(dir, 'designed', await get(issued.url, 'certificate.pdf'))
  const flat = designed.text.replace(/\s+/g, ' ')
  t.match(flat, /Certificate of Certification/, 'the title line')
  t.match(flat, /Be it known that Jane Q\. Assistant, named below,/, 'the line before the name, its placeholder filled in')
  t.match(flat, /holds CMA \(AAMA\) from American Association of Medical Assistants until 31 March 2031/, 'the line after it')
  t.notMatch(flat, /This certifies that|has earned/, 'the default wording is gone')
  t.match(flat, /Dana Whitfield/)
  t.match(flat, /Executive Director/)
  t.match(flat, /Lee Park/)
  t.match(flat, /Chair, Certifying Board/)
  t.match(flat, /Jane Q\. Assistant/)
  // The outer frame (x 21–27 pt) in the primary colour, the inner rule (x 35.25–36.75) in the accent.
  t.ok(near(designed.pixel(24, 306), '#7b2d26'), `the frame is the design's primary colour (got ${designed.pixel(24, 306).join(',')})`)
  t.ok(near(designed.pixel(36, 306), '#e63946', 60), `the inner rule is its accent colour (got ${designed.pixel(36, 306).join(',')})`)
  t.notOk(near(plain.pixel(24, 306), '#7b2d26'), 'which the default is not')
  t.ok(near(designed.pixel(110, 88), '#00ff00'), `the logo in the top-left corner (got ${designed.pixel(110, 88).join(',')})`)
  t.ok(near(designed.pixel(11 * 72 - 102, 102), '#ff0000'), `the seal in the top-right corner (got ${designed.pixel(11 * 72 - 102, 102).join(',')})`)

  const card = render(dir, 'card', await get(issued.url, 'wallet-card.pdf'))
  const cardLeft = (8.5 * 72 - 85.6 * 72 / 25.4) / 2
  t.ok(near(card.pixel(cardLeft + 5, 190 + 5), '#7b2d26'), `the card's band is the primary colour (got ${card.pixel(cardLeft + 5, 195).join(',')})`)
  t.ok(near(card.pixel(cardLeft + 85.6 * 72 / 25.4 - 28, 190 + 13), '#00ff00'), 'and carries the logo')

  const otherAfter = render(dir, 'other-after', await get(other.url, 'certificate.pdf'))
  t.ok(otherAfter.png.data.equals(otherBefore.png.data), 'another achievement\'s certificate is not touched, pixel for pixel')

  t.equal((await app.app.inject({ method: 'DELETE', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth })).statusCode, 204)
  const reset = render(dir, 'reset', await get(issued.url, 'certificate.pdf'))
  t.ok(reset.png.data.equals(plain.png.data), 'back on the defaults, the certificate is drawn exactly as before the design, pixel for pixel')
})

testNeeding(['pdftotext'], 'previewCertificate draws a sample certificate with the stored design or unsaved settings, stamped SAMPLE', {}, async (t) => {
  const { app, achievementId } = await setup(t)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-design-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const deps = { sql: app.sql, config: app.config, urls: app.app.urls, now: new Date('2026-03-31T00:00:00Z') }
  const text = (pdf: Buffer, name: string): string => {
    writeFileSync(path.join(dir, name), pdf)
    return execFileSync('pdftotext', ['-raw', path.join(dir, name), '-']).toString('utf8').replace(/\s+/g, ' ')
  }
  const before = text(await previewCertificate(deps, achievementId), 'a.pdf')
  t.match(before, /This certifies that Alex Sample has earned CMA \(AAMA\)/)
  t.match(before, /SAMPLE/)
  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: DESIGN })
  t.match(text(await previewCertificate(deps, achievementId, { holderName: 'Pat Example' }), 'b.pdf'), /Be it known that Pat Example, named below,/, 'the stored design')
  t.match(text(await previewCertificate(deps, achievementId, { design: { titleLine: 'Draft title for {achievementName}' } }), 'c.pdf'), /Draft title for CMA \(AAMA\)/, 'unsaved settings')
  t.match(text(await previewCertificate(deps, achievementId, { card: true }), 'd.pdf'), /Wallet card/)
  await t.rejects(previewCertificate(deps, 'NOSUCHACHIEVEMENT0'), { code: 'not_found' })
})

t.test('the badge image and the preview use the design: its artwork when the achievement has no image of its own, its colours', async (t) => {
  const { app, achievementId } = await setup(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const get = async (file: string) => await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/${file}` })
  const drawnPng = PNG.sync.read((await get('badge.png')).rawPayload)
  t.same([drawnPng.width, drawnPng.height], [400, 400], 'the drawn badge')
  const previewBefore = PNG.sync.read((await get('preview.png')).rawPayload)

  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: { primaryColor: '#123456' } })
  const recoloured = await get('badge.svg')
  t.match(recoloured.body, /fill="#123456"/, 'the drawn badge in the design\'s primary colour')
  const preview = PNG.sync.read((await get('preview.png')).rawPayload)
  t.same([...preview.data.subarray((40 * 1200 + 600) * 4, (40 * 1200 + 600) * 4 + 3)], [0x12, 0x34, 0x56], 'the preview\'s band is the new colour: the cached preview was not reused')
  t.notSame([...previewBefore.data.subarray((40 * 1200 + 600) * 4, (40 * 1200 + 600) * 4 + 3)], [0x12, 0x34, 0x56])

  const artwork = solidPng(300, 200, [10, 20, 30])
  t.equal((await putImage(app, achievementId, 'artwork', 'image/png', artwork)).statusCode, 200)
  const baked = PNG.sync.read((await get('badge.png')).rawPayload)
  t.same([baked.width, baked.height], [300, 200], 'badge.png is the artwork, with the credential baked in')
  const artworkSvg = '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"><rect id="art" width="50" height="50" fill="#abcdef"/></svg>'
  t.equal((await putImage(app, achievementId, 'artwork', 'image/svg+xml', artworkSvg)).statusCode, 200)
  const svg = (await get('badge.svg')).body
  t.match(svg, /<rect id="art"/, 'badge.svg is the SVG artwork')
  t.match(svg, /openbadges:credential/, 'with the credential baked in')
  const rendered = PNG.sync.read((await get('badge.png')).rawPayload)
  t.same([rendered.width, [...rendered.data.subarray(0, 3)]], [50, [0xab, 0xcd, 0xef]], 'badge.png is its rendering')

  const logo = solidPng(40, 40, [0, 255, 0])
  await putImage(app, achievementId, 'logo', 'image/png', logo)
  const withLogo = PNG.sync.read((await get('preview.png')).rawPayload)
  t.same([...withLogo.data.subarray((48 * 1200 + 1160) * 4, (48 * 1200 + 1160) * 4 + 3)], [0, 255, 0], 'the preview carries the logo at the right of its band')
})

t.test('the public image route (for app.ts to register at the root) serves an image as what it is, without a key', async (t) => {
  const { app, achievementId } = await setup(t)
  await putImage(app, achievementId, 'seal', 'image/svg+xml', SEAL_SVG)
  const root = Fastify()
  root.decorate('sql', app.sql)
  root.addSchema(problemSchema)
  await root.register(achievementDesignPublicRoutes)
  t.teardown(async () => { await root.close() })
  const svg = await root.inject({ method: 'GET', url: `/achievements/${achievementId}/design/seal` })
  t.equal(svg.statusCode, 200)
  t.match(svg.headers['content-type'], /^image\/svg\+xml/)
  t.equal(svg.headers['x-content-type-options'], 'nosniff')
  t.match(svg.headers['content-security-policy'], /default-src 'none'/)
  t.equal(svg.body, SEAL_SVG)
  t.equal((await root.inject({ method: 'GET', url: `/achievements/${achievementId}/design/logo` })).statusCode, 404)
  t.equal((await root.inject({ method: 'GET', url: `/achievements/${achievementId}/design/banner` })).statusCode, 400)
})

testNeeding(['pdftotext'], 'a long designed line is cut to one line with an ellipsis rather than running into the next', {}, async (t) => {
  const { app, achievementId } = await setup(t)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-design-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${achievementId}/design`, headers: app.auth, payload: { statementAfter: `has earned ${'very '.repeat(55)}much` } })
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const { text } = render(dir, 'long', (await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/certificate.pdf` })).rawPayload)
  t.match(text, /has earned (very )+ve?r?y?…/, 'cut with an ellipsis')
  t.notMatch(text, /much/, 'the rest is not drawn')
  t.match(text, /CMA \(AAMA\)/, 'the achievement\'s name is still there')
})
