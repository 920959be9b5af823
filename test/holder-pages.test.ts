import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { extractFromPng } from '../src/capabilities/bake/png.js'
import { extractFromSvg } from '../src/capabilities/bake/svg.js'
import { fetchPastedCredential } from '../src/capabilities/verification/fetch-credential-url.js'
import { isBlockedAddress } from '../src/infrastructure/outbound/outbound.js'
import { shareLinks } from '../src/capabilities/presentation/share-links.js'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { testNeeding } from './helpers/system-tools.js'

// jsqr is CommonJS with a default export; under ESM interop it arrives as the module object.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const FIXTURES = new URL('./fixtures/ob3/examples/', import.meta.url)
const pathOf = (url: string): string => new URL(url).pathname

async function setup (t: Test, start: string): Promise<{ app: TestApp, setNow: (iso: string) => void, achievementId: string }> {
  let now = new Date(start)
  const app = await build(t, { clock: () => now, env: { ISSUER_NAME: 'American Association of Medical Assistants' } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  return { app, setNow: (iso) => { now = new Date(iso) }, achievementId: achievement.id }
}

const page = async (app: TestApp, url: string) => await app.app.inject({ method: 'GET', url: pathOf(url), headers: { accept: BROWSER_ACCEPT } })
const banner = (html: string): string => /<p class="banner__text">([^<]*)<\/p>/.exec(html)?.[1] ?? ''
const advice = (html: string): string => /<p class="banner__advice">([^<]*)<\/p>/.exec(html)?.[1] ?? ''

t.test('the credential URL negotiates: browsers get the page, machines the signed credential', async (t) => {
  const { app, achievementId } = await setup(t, '2026-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const cases: Array<[string | undefined, RegExp]> = [
    [BROWSER_ACCEPT, /^text\/html/],
    [undefined, /^application\/ld\+json/],
    ['*/*', /^application\/ld\+json/],
    ['application/ld+json', /^application\/ld\+json/],
    ['application/vc+jwt', /^application\/vc\+jwt/],
    ['text/html;q=0.5, application/json', /^application\/json/]
  ]
  for (const [accept, type] of cases) {
    const response = await app.app.inject({ method: 'GET', url: pathOf(issued.url), headers: accept === undefined ? {} : { accept } })
    t.equal(response.statusCode, 200, String(accept))
    t.match(response.headers['content-type'], type, String(accept))
    t.equal(response.headers.vary, 'Accept', `Vary: Accept for ${String(accept)}`)
  }
  const html = (await page(app, issued.url)).body
  t.notMatch(html, /jane@example\.org/i, 'the email never appears')
  t.match(html, /<meta property="og:image" content="https:\/\/badges\.test\.example\/credentials\/[^"]+\/preview\.png">/)
  t.match(html, /<meta property="og:title" content="CMA \(AAMA\): Jane Q\. Assistant">/)
  t.match(html, /<meta name="twitter:card" content="summary_large_image">/)
  t.notMatch(html, /<script/i, 'no script at all')
  const headers = (await page(app, issued.url)).headers
  t.match(headers['content-security-policy'], /default-src 'none'/)
  t.notMatch(headers['content-security-policy'], /script-src/)
  // Through the service's own redirect, which counts the click (no cookie, no address kept) and sends the browser on.
  t.match(html, new RegExp(`href="${issued.url}/share/linkedin">Add to LinkedIn profile`))
  const onward = await app.app.inject({ method: 'GET', url: `${new URL(issued.url).pathname}/share/linkedin` })
  t.equal(onward.statusCode, 303)
  t.match(onward.headers.location, /^https:\/\/www\.linkedin\.com\/profile\/add\?startTask=CERTIFICATION_NAME&name=CMA%20\(AAMA\)/)
})

t.test('the banner for every status, computed at request time', async (t) => {
  const { app, setNow, achievementId } = await setup(t, '2021-06-30T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Ana <b>Ruiz</b>', email: 'ana@example.com' } })
  const future = await issue(app, { achievementId, recipient: { name: 'Fu Ture', email: 'future@example.com' }, validFrom: '2021-08-01T00:00:00Z' })

  let html = (await page(app, issued.url)).body
  t.equal(banner(html), 'Valid until 30 June 2026.')
  t.match(html, /Ana &lt;b&gt;Ruiz&lt;\/b&gt;/, 'user data is escaped')
  t.equal(banner((await page(app, future.url)).body), 'This certification is valid from 1 August 2021.')

  setNow('2026-08-01T00:00:00Z')
  html = (await page(app, issued.url)).body
  t.match(html, /banner--expired/)
  t.equal(banner(html), 'This certification expired on 30 June 2026.')
  t.equal(advice(html), 'It can still be renewed by continuing education until 30 September 2026; after that, only by passing the certification exam again.')
  setNow('2026-10-15T00:00:00Z')
  t.equal(advice((await page(app, issued.url)).body), 'Renewal by continuing education closed on 30 September 2026. It can be renewed by passing the certification exam again.', 'outside the grace window: the exam')

  const recertified = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/recertify`, headers: app.auth, payload: { method: 'exam' } })
  t.equal(recertified.statusCode, 201)
  setNow('2026-10-20T00:00:00Z')
  const corrected = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Ana Ruiz' } } })
  t.equal(corrected.statusCode, 201)
  const old = (await page(app, `${issued.url}/versions/2`)).body
  t.match(old, /banner--superseded/)
  t.equal(banner(old), 'This version was replaced on 20 October 2026 by a corrected version.')
  t.match(old, new RegExp(`<a class="banner__link" href="${issued.url}">See the current version</a>`))
  t.match(old, /You are looking at version 2 of this credential/)

  setNow('2026-11-02T00:00:00Z')
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Private reason XYZ' } })
  html = (await page(app, issued.url)).body
  t.match(html, /banner--revoked/)
  t.equal(banner(html), 'This certification was revoked by American Association of Medical Assistants on 2 November 2026. It is no longer valid.')
  t.notMatch(html, /Private reason XYZ/, 'never the private reason')
  t.notMatch(html, /ana@example\.com/)
})

t.test('a forged copy: the page of the verify form says it is not genuine and lists no checks', async (t) => {
  const { app, achievementId } = await setup(t, '2026-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Real Name', email: 'r@example.com' } })
  const forged = structuredClone(issued.credential)
  forged.credentialSubject.name = 'Someone Else'
  const boundary = 'XBOUNDARY'
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${JSON.stringify(forged)}\r\n--${boundary}--\r\n`
  const response = await app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
  t.equal(response.statusCode, 422)
  t.match(response.body, /This document is not genuine: its digital signature does not match its contents/)
  t.notMatch(response.body, /class="checks"/)
})

t.test('baked images: bake, extract, verify; PNG and SVG; ours and 1EdTech\'s', async (t) => {
  const { app, achievementId } = await setup(t, '2026-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Bo Li', email: 'bo@example.com' } })
  const png = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/badge.png` })
  t.equal(png.headers['content-type'], 'image/png')
  t.equal(extractFromPng(png.rawPayload), JSON.stringify(issued.credential), 'exactly the signed credential')
  const svg = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/badge.svg` })
  t.match(svg.body, /^<svg xmlns:openbadges="https:\/\/purl\.imsglobal\.org\/ob\/v3p0"[^>]*><openbadges:credential><!\[CDATA\[/)
  t.equal(svg.body.match(/<openbadges:credential>/g)?.length, 1)
  t.equal(extractFromSvg(svg.body), JSON.stringify(issued.credential))

  for (const [body, type] of [[png.rawPayload, 'image/png'], [svg.body, 'image/svg+xml']] as const) {
    const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': type }, payload: body })
    t.equal(verified.json().status, 'valid', type)
  }
  for (const file of ['simple-json.png', 'simple-jwt.png', 'simple-json.svg', 'simple-jwt.svg']) {
    const bytes = readFileSync(new URL(`valid/baked/${file}`, FIXTURES))
    const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': file.endsWith('.png') ? 'image/png' : 'image/svg+xml' }, payload: bytes })
    t.equal(verified.json().checks.find((c: { id: string }) => c.id === 'proof').result, 'passed', `${file}: extracted and its proof verifies`)
  }
  const plain = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'image/svg+xml' }, payload: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' })
  t.equal(plain.statusCode, 400)
  t.match(plain.json().detail, /no credential baked/)
  const notPng = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'image/png' }, payload: Buffer.from('GIF89a') })
  t.equal(notPng.statusCode, 400)

  const preview = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/preview.png` })
  const image = PNG.sync.read(preview.rawPayload)
  t.same([image.width, image.height], [1200, 627], 'og:image is a 1200×627 PNG')
})

testNeeding(['pdftoppm', 'pdftotext'], 'the certificate and wallet card: holder, id, a QR code to the URL, and a stamp when not valid', {}, async (t) => {
  const { app, setNow, achievementId } = await setup(t, '2021-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-pdf-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  for (const file of ['certificate.pdf', 'wallet-card.pdf']) {
    const response = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/${file}` })
    t.equal(response.headers['content-type'], 'application/pdf')
    const pdf = path.join(dir, file)
    writeFileSync(pdf, response.rawPayload)
    const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString('utf8')
    t.match(text, /Jane Q\. Assistant/, `${file}: the holder`)
    t.match(text, new RegExp(issued.id.replace(/[-_]/g, '.')), `${file}: the credential id`)
    t.notMatch(text, /EXPIRED/, `${file}: no stamp while valid`)
    t.match(text, /Status on 31 March 2021: Valid/, `${file}: the status when printed`)
    execFileSync('pdftoppm', ['-png', '-r', '300', '-singlefile', pdf, path.join(dir, file)])
    const page = PNG.sync.read(readFileSync(path.join(dir, `${file}.png`)))
    const qr = jsQR(new Uint8ClampedArray(page.data), page.width, page.height)
    t.equal(qr?.data, issued.url, `${file}: the QR code leads to the credential URL`)
  }
  setNow('2026-05-01T00:00:00Z')
  const expired = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/certificate.pdf` })
  t.equal(expired.statusCode, 200, expired.statusCode === 200 ? '' : expired.body)
  writeFileSync(path.join(dir, 'expired.pdf'), expired.rawPayload)
  const expiredText = execFileSync('pdftotext', [path.join(dir, 'expired.pdf'), '-']).toString('utf8')
  t.match(expiredText, /Status on 1 May 2026: Expired/, 'an expired certificate says so in words')
  t.match(execFileSync('pdftotext', ['-raw', path.join(dir, 'expired.pdf'), '-']).toString('utf8'), /^EXPIRED$/m, 'and carries the stamp')
})

t.test('the /verify page: paste a URL, JSON or a JWT, or upload an image; other issuers\' credentials are displayed', async (t) => {
  const { app, achievementId } = await setup(t, '2026-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Cy Doe', email: 'cy@example.com' } })
  const form = (fields: Record<string, string>, file?: { name: string, type: string, body: Buffer }) => {
    const boundary = 'FORMBOUNDARY'
    const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    const head = Buffer.from(parts.join('') + (file === undefined ? '' : `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`))
    const payload = Buffer.concat([head, file?.body ?? Buffer.alloc(0), Buffer.from(`${file === undefined ? '' : '\r\n'}--${boundary}--\r\n`)])
    return app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
  }
  const get = await app.app.inject({ method: 'GET', url: '/verify' })
  t.equal(get.statusCode, 200)
  t.match(get.body, /<label for="credential-input">/)

  for (const input of [issued.url, JSON.stringify(issued.credential), issued.jwt]) {
    const response = await form({ credential: input })
    t.equal(response.statusCode, 200, input.slice(0, 40))
    t.equal(banner(response.body), 'Valid until 31 March 2031.')
    t.match(response.body, /Awarded to <strong>Cy Doe<\/strong>/)
  }
  const png = (await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/badge.png` })).rawPayload
  const upload = await form({ credential: '' }, { name: 'badge.png', type: 'image/png', body: png })
  t.equal(upload.statusCode, 200)
  t.equal(banner(upload.body), 'Valid until 31 March 2031.')

  const v11 = await form({ credential: readFileSync(new URL('invalid/expired-vcdm11-complete_v1.json', FIXTURES), 'utf8') })
  t.match(v11.body, /<h2 id="claims-title">What this document claims — not verified<\/h2>/, 'a VCDM 1.1 credential from another issuer is displayed, as its claims: nothing ties its key to the issuer')
  t.notMatch(v11.body, /banner--valid/, 'and not shown as valid (expired, with a status method that needs the network)')
  t.match(v11.body, /expired/i)
  t.match(v11.body, /It claims to have been issued on \d+ \w+ \d{4}\./, 'its issuanceDate is shown')
  const other = await form({ credential: readFileSync(new URL('valid/validator/simple.json', FIXTURES), 'utf8') })
  t.match(other.body, /It claims to be issued by Example Corp/)

  for (const [input, message] of [
    ['https://127.0.0.1/credential', /private or local network/],
    ['https://10.1.2.3/c', /private or local network/],
    ['http://example.com/c', /Only https links/],
    ['https://user:pw@example.com/c', /user name or password/],
    [`${BASE_URL}/credentials/AAAAAAAAAAAAAAAA`, /No credential of this service/],
    ['{"not json', /not valid JSON/]
  ] as const) {
    const response = await form({ credential: input })
    t.equal(response.statusCode, 422, input)
    t.match(response.body, message, input)
  }
  const nothing = await form({ credential: ' ' })
  t.equal(nothing.statusCode, 400)
})

t.test('outbound fetches refuse private, local and special addresses, and names that resolve to them', async (t) => {
  for (const address of ['127.0.0.1', '10.0.0.8', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '224.0.0.1']) {
    t.ok(isBlockedAddress(address), address)
  }
  for (const address of ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '8.8.8.8']) t.notOk(isBlockedAddress(address), address)
  const rebinding = async (): Promise<Array<{ address: string, family: number }>> => [{ address: '93.184.215.14', family: 4 }, { address: '127.0.0.1', family: 4 }]
  await t.rejects(fetchPastedCredential('https://badges.example.net/c/1', { allowLoopback: false, resolveName: rebinding as never }), /private or local network/, 'any private answer refuses the name')
})

t.test('LinkedIn "Add to profile": every value percent-encoded, months 1-based in UTC', async (t) => {
  const links = shareLinks({ credentialUrl: 'https://badges.example.org/credentials/x7K', credentialId: 'x7K', achievementName: 'CMA (AAMA)', issuerName: 'American Association of Medical Assistants & Co', issued: '2021-01-31T23:30:00Z', expires: '2026-12-01T00:00:00Z' })
  t.equal(links.linkedInAddToProfile, 'https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=CMA%20(AAMA)&organizationName=American%20Association%20of%20Medical%20Assistants%20%26%20Co&issueYear=2021&issueMonth=1&expirationYear=2026&expirationMonth=12&certUrl=https%3A%2F%2Fbadges.example.org%2Fcredentials%2Fx7K&certId=x7K')
  t.equal(links.linkedInShare, 'https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fbadges.example.org%2Fcredentials%2Fx7K')
  const withId = shareLinks({ credentialUrl: 'https://b/c', credentialId: 'c', achievementName: 'A', issuerName: 'I', linkedInOrganizationId: '12345' })
  t.match(withId.linkedInAddToProfile, /&organizationId=12345&certUrl=/)
  t.notMatch(withId.linkedInAddToProfile, /organizationName|issueYear/)
})
