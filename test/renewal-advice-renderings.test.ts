/**
 * One renewal-advice function, every rendering (issue 22, "three renderings,
 * three answers"): for an expired CMA inside its continuing-education window
 * and a back-dated one issued after it, the public page, My badges, the
 * certificate and wallet card, the preview image and the verify API's notice
 * all carry the one sentence renewalAdvice words. Also: the downloads a
 * person needs come first, and the wallet card prints at a known scale.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PNG } from 'pngjs'
import t, { type Test } from 'tap'
import { renewalAdvice } from '../src/capabilities/achievements/renewal-advice.js'
import { previewSvg, svgToPng } from '../src/infrastructure/web/images.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { startSmtpServer } from './helpers/notifications.js'
import { CookieJar, getPage, signIn } from './helpers/portal.js'
import { testNeeding } from './helpers/system-tools.js'

const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const ISSUER = 'American Association of Medical Assistants'
const NOW = new Date('2026-12-04T12:00:00Z')
const BROWSER = { accept: 'text/html' }
const pathOf = (url: string): string => new URL(url).pathname
const words = (text: string): string => text.replace(/\s+/g, ' ').trim()
const adviceIn = (html: string): string[] => [...html.matchAll(/<p class="banner__advice">([^<]*)<\/p>/g)].map((m) => m[1] ?? '')

/** The service on 1 June 2021 (so back-dated issues are ordinary), with the CMA rules and a mail server for signing in. */
async function setup (t: Test): Promise<{ app: TestApp, messages: Awaited<ReturnType<typeof startSmtpServer>>['messages'], achievementId: string, setNow: (date: Date) => void }> {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  let now = new Date('2021-06-01T00:00:00Z')
  const app = await build(t, { clock: () => now, env: { ISSUER_NAME: ISSUER, SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  return { app, messages: smtp.messages, achievementId: achievement.id, setNow: (date) => { now = date } }
}

testNeeding(['pdftotext'], 'an expired CMA inside its window and a back-dated one after it: every rendering gives renewalAdvice\'s sentence', { timeout: 120_000 }, async (t) => {
  const { app, messages, achievementId, setNow } = await setup(t)
  // Valid until 20 October 2026: continuing education until 20 January 2027.
  const inGrace = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2021-10-20T00:00:00Z' })
  // An order for an old exam, issued back-dated: valid until 1 June 2026, the window closed on 1 September 2026.
  const lapsed = await issue(app, { achievementId, recipient: { name: 'Sam Lee', email: 'sam@example.org' }, validFrom: '2021-06-01T00:00:00Z' })
  // Every rendering below is asked on one day.
  setNow(NOW)

  const cases = [
    { name: 'inside the window', issued: inGrace, holder: 'Jane Q. Assistant', email: 'jane@example.org', expiredOn: '20 October 2026', sentence: 'It can still be renewed by continuing education until 20 January 2027; after that, only by passing the certification exam again.' },
    { name: 'after the window', issued: lapsed, holder: 'Sam Lee', email: 'sam@example.org', expiredOn: '1 June 2026', sentence: 'Renewal by continuing education closed on 1 September 2026. It can be renewed by passing the certification exam again.' }
  ]
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-advice-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })

  const shown: string[] = []
  for (const { name, issued, holder, email, expiredOn, sentence } of cases) {
    const validUntil = issued.credential.validUntil as string
    t.equal(renewalAdvice({ policy: CMA_RULES, validUntil, now: NOW }).sentence, sentence, `${name}: the sentence is renewalAdvice's`)

    const page = await app.app.inject({ method: 'GET', url: pathOf(issued.url), headers: BROWSER })
    t.same(adviceIn(page.body), [sentence], `${name}: the public page`)

    const jar = new CookieJar()
    await signIn(app, jar, email, messages)
    const myBadges = await getPage(app, jar, '/account')
    t.equal(myBadges.statusCode, 200)
    shown.push(page.body, myBadges.body)
    const card = myBadges.body.split('<li class="badge-card"').find((part) => part.includes(`id="badge-${issued.id}"`)) ?? ''
    t.match(card, `This certification expired on ${expiredOn}.`, `${name}: My badges states the status`)
    t.same(adviceIn(card), [sentence], `${name}: My badges gives the same advice`)

    for (const file of ['certificate.pdf', 'wallet-card.pdf']) {
      const response = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/${file}` })
      t.equal(response.statusCode, 200)
      const pdf = path.join(dir, `${issued.id}-${file}`)
      writeFileSync(pdf, response.rawPayload)
      const text = words(execFileSync('pdftotext', [pdf, '-']).toString('utf8'))
      t.match(text, 'Status on 4 December 2026: Expired', `${name}: ${file} states the status`)
      t.match(text, sentence, `${name}: ${file} gives the same advice`)
    }

    // The preview draws its words as SVG text; the PNG served is that SVG with this advice, and differs from one without.
    const input = { achievementName: 'CMA (AAMA)', holderName: holder, issuerName: ISSUER, statusLabel: 'Expired', statusText: `This certification expired on ${expiredOn}.`, tone: 'expired' as const, palette: { primary: app.config.branding.primaryColor, accent: app.config.branding.accentColor } }
    const drawn = previewSvg({ ...input, advice: sentence })
    t.equal([...drawn.matchAll(/<text[^>]*font-size="22"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(' '), sentence, `${name}: the preview draws the whole sentence`)
    const preview = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/preview.png` })
    t.ok(preview.rawPayload.equals(svgToPng(drawn)), `${name}: the preview image is drawn with the advice`)
    t.notOk(preview.rawPayload.equals(svgToPng(previewSvg(input))), `${name}: which an image without it is not`)

    const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
    t.equal(verified.statusCode, 422)
    t.equal(verified.json().status, 'expired', verified.body)
    t.equal(verified.json().notice, `This CMA (AAMA) certification expired on ${expiredOn}. ${sentence}`, `${name}: the verify API's notice`)
  }
  const offers = shown.join('').match(/can still be renewed by continuing education/g) ?? []
  t.equal(offers.length, 2, 'continuing education is offered only for the badge still inside its window (its page and its card on My badges)')
})

t.test('the verify API gives no advice when asked about another moment', async (t) => {
  const { app, achievementId, setNow } = await setup(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2021-10-20T00:00:00Z' })
  setNow(NOW)
  const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential, options: { at: '2026-11-01T00:00:00Z' } } })
  t.equal(verified.json().status, 'expired', verified.body)
  t.equal(verified.json().notice, 'This CMA (AAMA) certification expired on 20 October 2026.', 'what the holder can do is a question about now')
})

t.test('the credential page offers the certificate and wallet card first; the signed formats after, under their own heading, each explained', async (t) => {
  const { app, achievementId } = await setup(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const html = (await app.app.inject({ method: 'GET', url: pathOf(issued.url), headers: BROWSER })).body
  const downloads = html.slice(html.indexOf('id="downloads-heading"'))
  const files = [...downloads.matchAll(/href="[^"]*\/([\w.-]+)" download>([^<]+)<\/a> <span class="download__about">[^<]+<\/span>/g)].map((m) => m[1])
  t.same(files, ['certificate.pdf', 'wallet-card.pdf', 'credential.jsonld', 'credential.jwt', 'badge.png', 'badge.svg'])
  const heading = downloads.indexOf('For digital wallets and other systems')
  t.ok(heading > downloads.indexOf('wallet-card.pdf') && heading < downloads.indexOf('credential.jsonld'), 'the machine formats sit under their own heading, after the PDFs')
  t.match(downloads, '>Certificate (PDF)</a>')
  t.match(downloads, '>Wallet card (PDF)</a>')
})

testNeeding(['pdftoppm', 'pdftotext'], 'the wallet card prints at a known scale: the card at exactly 85.6 × 54 mm on a Letter page, crop marks, a note, and no scaling asked of the viewer', {}, async (t) => {
  const { app, achievementId } = await setup(t)
  const issued = await issue(app, { achievementId, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const response = await app.app.inject({ method: 'GET', url: `${pathOf(issued.url)}/wallet-card.pdf` })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-card-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const pdf = path.join(dir, 'card.pdf')
  writeFileSync(pdf, response.rawPayload)
  t.match(execFileSync('pdfinfo', [pdf]).toString('utf8'), /Page size:\s+612 x 792 pts \(letter\)/, 'a US Letter page (it fits on A4 too)')
  t.match(response.rawPayload.toString('latin1'), /\/ViewerPreferences \d+ 0 R/, 'the catalog has viewer preferences')
  t.match(response.rawPayload.toString('latin1'), /\/PrintScaling \/None/, 'which ask the print dialog for actual size')
  t.match(words(execFileSync('pdftotext', [pdf, '-']).toString('utf8')), 'Print this page at 100% ("Actual size"), not "Fit to page"')

  // The card's top band is the brand colour, edge to edge: measured at 300 dpi, it is 85.6 mm wide.
  execFileSync('pdftoppm', ['-png', '-r', '300', '-singlefile', pdf, path.join(dir, 'card')])
  const image = PNG.sync.read(readFileSync(path.join(dir, 'card.png')))
  const hex = app.config.branding.primaryColor.replace('#', '')
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16))
  // 2 pt under the card's top edge: above the issuer's name, which is drawn in white on the band.
  const row = Math.round((190 + 2) / 72 * 300)
  let width = 0
  for (let x = 0; x < image.width; x++) {
    const at = (row * image.width + x) * 4
    if (Math.abs(image.data[at]! - r!) < 8 && Math.abs(image.data[at + 1]! - g!) < 8 && Math.abs(image.data[at + 2]! - b!) < 8) width++
  }
  const expected = 85.6 / 25.4 * 300
  t.ok(Math.abs(width - expected) <= 2, `the card is ${(width / 300 * 25.4).toFixed(1)} mm wide (${width} px at 300 dpi; ${expected.toFixed(0)} expected)`)
})
