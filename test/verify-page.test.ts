import { readFileSync } from 'node:fs'
import { CompactSign, exportJWK, generateKeyPair } from 'jose'
import t, { type Test } from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { startSmtpServer } from './helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from './helpers/portal.js'

/**
 * The public /verify page draws as fact only what the checks establish: a
 * forged document's statements are its claims, an unconfirmed issuer is
 * named as unconfirmed, a private badge shows only its status, and our own
 * expired certification gets the same renewal advice as its page.
 */

const FIXTURES = new URL('./fixtures/ob3/examples/', import.meta.url)
const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const ISSUER = 'American Association of Medical Assistants'
const CLAIMS_FRAME = /<h2 id="claims-title">What this document claims — not verified<\/h2>/
const CARD_HEADING = /<h2 id="shown-title">/
const advice = (html: string): string => /<p class="banner__advice">([^<]*)<\/p>/.exec(html)?.[1] ?? ''
const banner = (html: string): string => /<p class="banner__text">([^<]*)<\/p>/.exec(html)?.[1] ?? ''

async function setup (t: Test, start: string): Promise<{ app: TestApp, setNow: (iso: string) => void, achievementId: string }> {
  let now = new Date(start)
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  return { app, setNow: (iso) => { now = new Date(iso) }, achievementId: achievement.id }
}

/** The form as a browser posts it (multipart), with whatever cookies the browser holds. */
async function verifyPage (app: TestApp, credential: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  const boundary = 'VERIFYBOUNDARY'
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${credential}\r\n--${boundary}--\r\n`
  const response = await app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers }, payload })
  return { status: response.statusCode, body: response.body }
}

/** The result part of the page: the form echoes the pasted text above it, and the header names our issuer on every page. */
const resultPart = (html: string): string => html.slice(html.indexOf('</form>'), html.indexOf('<footer'))

/** A token made with a key of the forger's own, carried in its header, over a copy of our credential. */
async function signedWithForeignKey (payload: Record<string, unknown>): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(publicKey) }).sign(privateKey)
}

t.test('a forged credential is shown as claims under "not verified", never as a card; a genuine one still gets the card', async (t) => {
  const { app, achievementId } = await setup(t, '2026-03-31T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Real Holder', email: 'real@example.org' } })

  const tampered = structuredClone(issued.credential)
  tampered.credentialSubject.name = 'Mallory Impostor'
  const forgedJwt = await signedWithForeignKey({ ...tampered, proof: undefined, iss: tampered.issuer.id, jti: tampered.id, sub: tampered.credentialSubject.id })
  for (const [what, input] of [['the name changed on one of ours', JSON.stringify(tampered)], ['signed with a foreign key', forgedJwt]] as const) {
    const page = await verifyPage(app, input)
    const result = resultPart(page.body)
    t.equal(page.status, 422, what)
    t.match(result, /banner--invalid/, `${what}: not verified`)
    t.match(result, CLAIMS_FRAME, `${what}: the claims sit in the "not verified" frame`)
    t.match(result, /<li>It claims to be awarded to Mallory Impostor\.<\/li>/, `${what}: the name reads as a claim`)
    t.match(result, new RegExp(`<li>It claims to be issued by ${ISSUER} \\(https://badges\\.test\\.example/issuers/[^)]+\\)\\.</li>`), `${what}: so does the issuer`)
    t.notMatch(result, CARD_HEADING, `${what}: no card heading`)
    t.notMatch(result, /Awarded to <strong>/, `${what}: no "Awarded to"`)
    t.notMatch(result, /Issued by /, `${what}: no "Issued by" line`)
    t.notMatch(result, /<img /, `${what}: no badge image`)
  }

  const genuine = resultPart((await verifyPage(app, JSON.stringify(issued.credential))).body)
  t.match(genuine, /<h2 id="shown-title">CMA \(AAMA\)<\/h2>/, 'a genuine credential gets the card')
  t.match(genuine, /Awarded to <strong>Real Holder<\/strong>/)
  t.match(genuine, `Issued by ${ISSUER}`)
  t.notMatch(genuine, /claims-title/)

  const unreadable = await verifyPage(app, '{"type": ["VerifiableCredential"]}')
  t.equal(unreadable.status, 422)
  t.notMatch(resultPart(unreadable.body), CARD_HEADING, 'an unreadable document is no card either')
  t.notMatch(resultPart(unreadable.body), /Unreadable credential/)
})

t.test('a genuine signature by a key nothing ties to the issuer: the page says which key signed and that the issuer is not confirmed', async (t) => {
  const { app } = await setup(t, '2026-03-31T00:00:00Z')
  const page = await verifyPage(app, readFileSync(new URL('valid/validator/simple.json', FIXTURES), 'utf8'))
  const result = resultPart(page.body)
  t.equal(page.status, 422)
  t.match(result, 'The signature is genuine and was made with the key https://example.com/issuers/876543#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi. Nothing confirms that this key belongs to Example Corp (https://example.com/issuers/876543); the issuer&#39;s identity is not verified.')
  t.match(result, CLAIMS_FRAME)
  t.match(result, '<li>It claims to be issued by Example Corp (https://example.com/issuers/876543).</li>')
  t.notMatch(result, /Issued by Example Corp/, 'the named issuer is not presented as the issuer')
  t.notMatch(result, CARD_HEADING)

  const jwt = await verifyPage(app, readFileSync(new URL('valid/jwt/simple-vcdm2-rs256-jwk.jwt', FIXTURES), 'utf8'))
  t.match(resultPart(jwt.body), /The signature is genuine and was made with a public key carried inside the token itself\. Nothing confirms that this key belongs to /, 'a token with its own key says so')
})

t.test('a badge its holder made private: /verify states its status but shows the holder\'s details only to the signed-in holder', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const now = new Date('2026-11-25T12:00:00Z')
  const app = await build(t, { clock: () => now, env: { SMTP_URL: smtp.url } })
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const holder = new CookieJar()
  await signIn(app, holder, 'jane@example.org', smtp.messages)
  const mine = await getPage(app, holder, '/account')
  t.equal((await postForm(app, holder, `/account/badges/${issued.id}/privacy`, { _csrf: csrfToken(mine.body), hidden: 'true' })).statusCode, 200)

  for (const [what, input] of [['its URL', issued.url], ['its JSON', JSON.stringify(issued.credential)], ['its JWT', issued.jwt], ['a version URL', `${issued.url}/versions/1`]] as const) {
    const anonymous = await verifyPage(app, input)
    t.equal(anonymous.status, 200, `${what}: the status is still answered`)
    t.equal(banner(anonymous.body), 'Valid until 25 November 2031.', `${what}: valid, and until when`)
    t.match(anonymous.body, 'This credential\'s holder keeps its details private', `${what}: says why nothing else is shown`)
    t.notMatch(anonymous.body, /Jane/, `${what}: no holder name anywhere, not even in the echoed form`)
    t.notMatch(anonymous.body, CARD_HEADING, `${what}: no card`)
  }
  await issue(app, { achievementId: cma.id, recipient: { name: 'Sam Other', email: 'someone.else@example.org' } })
  const stranger = new CookieJar()
  await signIn(app, stranger, 'someone.else@example.org', smtp.messages)
  t.notMatch((await verifyPage(app, issued.url, stranger.header())).body, /Jane/, 'another signed-in person sees no name either')

  const own = await verifyPage(app, issued.url, holder.header())
  t.match(own.body, /Awarded to <strong>Jane Q\. Assistant<\/strong>/, 'the signed-in holder sees the card')
})

t.test('our expired certification inside its grace window: /verify gives the renewal advice of the credential page', async (t) => {
  const { app, setNow, achievementId } = await setup(t, '2021-06-30T00:00:00Z')
  const issued = await issue(app, { achievementId, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  setNow('2026-08-01T00:00:00Z')
  const credentialPage = await app.app.inject({ method: 'GET', url: new URL(issued.url).pathname, headers: { accept: 'text/html' } })
  const expected = advice(credentialPage.body)
  t.match(expected, /continuing education until 30 September 2026/, 'the page: continuing education, within the 3-month grace period')
  for (const [what, input] of [['its URL', issued.url], ['its JSON', JSON.stringify(issued.credential)], ['its JWT', issued.jwt]] as const) {
    const page = await verifyPage(app, input)
    t.equal(page.status, 422, what)
    t.match(page.body, /banner--expired/, what)
    t.equal(advice(page.body), expected, `${what}: the same sentence as the credential page`)
  }
})
