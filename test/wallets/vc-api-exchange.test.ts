import t from 'tap'
import { MAX_FAILED_ATTEMPTS } from '../../src/capabilities/wallets/offers.js'
import { lcwCredentialRequestLink } from '../../src/capabilities/wallets/vc-api-exchange.js'
import { BASE_URL, build, createAchievement, issue } from '../helpers/build-app.js'
import { assertIndependentlyValid } from '../helpers/independent-checks.js'
import { FAST_JOBS, startSmtpServer } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'
import { makeWallet, post, signDidAuth, type Wallet } from '../helpers/vc-api-wallet.js'

/**
 * Learner Credential Wallet's side of the VC API exchange, played by an
 * independent client (test/helpers/vc-api-wallet.ts: @digitalbazaar/vc, the
 * wallet's own did:key, fetch over real HTTP) against the real app on a real
 * database. The service names its public URLs (https://badges.test.example);
 * the wallet reaches them at the address the app listens on, as behind a proxy.
 */

type Json = Record<string, any>

/** Problem documents name their code at the end of `type`. */
const PROBLEM = 'urn:tessera:problem:'

let clockOffsetMs = 0
const clock = (): Date => new Date(Date.now() + clockOffsetMs)

const smtp = await startSmtpServer()
t.teardown(smtp.close)
const app = await build(t, { clock, env: { ...FAST_JOBS, SMTP_URL: smtp.url } })
const address = await app.app.listen({ port: 0, host: '127.0.0.1' })
/** A public URL of the service, reached over real HTTP. */
const local = (url: string): string => url.startsWith(BASE_URL) ? `${address}${url.slice(BASE_URL.length)}` : url
const achievement = await createAchievement(app)

let holders = 0
/**
 * A badge issued to a new holder, who signs in to the portal (the emailed
 * link) and presses "Add to wallet": the offer is made as the real path makes
 * it, and the portal sends the browser to its interaction URL.
 */
async function issuedWithOffer (): Promise<{ issued: Awaited<ReturnType<typeof issue>>, interaction: string, email: string }> {
  const email = `holder${++holders}@example.org`
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: `Holder ${holders}`, email } })
  await app.app.background.settled()
  const jar = new CookieJar()
  await signIn(app, jar, email, smtp.messages)
  const page = await getPage(app, jar, `/account/badges/${issued.id}/wallet`)
  const added = await postForm(app, jar, `/account/badges/${issued.id}/wallet`, { _csrf: csrfToken(page.body) })
  if (added.statusCode !== 303 || typeof added.headers.location !== 'string') throw new Error(`Add to wallet: ${added.statusCode} ${added.body}`)
  return { issued, interaction: new URL(added.headers.location, BASE_URL).href, email }
}

/** GET the interaction URL (what the QR code holds) and pick the VC API protocol. */
async function vcapiOf (interaction: string): Promise<string> {
  const response = await fetch(local(interaction), { headers: { accept: 'application/json' } })
  if (response.status !== 200) throw new Error(`interaction URL: ${response.status}`)
  const { protocols } = await response.json() as Json
  return protocols.vcapi as string
}

/** Step 1: POST {} and read the VerifiablePresentationRequest. */
async function askForRequest (exchange: string): Promise<Json> {
  const reply = await post(local(exchange), {})
  if (reply.status !== 200) throw new Error(`POST {}: ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply.body.verifiablePresentationRequest
}

/** Step 2, as LCW sends it: to interact.service[0].serviceEndpoint, or the same URL. */
async function present (exchange: string, vpr: Json, verifiablePresentation: Json): Promise<{ status: number, contentType: string, body: Json }> {
  const endpoint = vpr.interact?.service?.[0]?.serviceEndpoint ?? exchange
  return await post(local(endpoint as string), { verifiablePresentation })
}

async function verifyWithService (credential: Json): Promise<Json> {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  return response.json()
}

t.test('Learner Credential Wallet receives the badge, bound to its did:key', async (t) => {
  const { issued, interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  t.match(exchange, /^https:\/\/badges\.test\.example\/wallet\/exchanges\/[A-Za-z0-9_-]{43}$/, 'the interaction URL lists the VC API exchange')

  const vpr = await askForRequest(exchange)
  t.same(vpr.query, [{ type: 'DIDAuthentication', acceptedMethods: [{ method: 'key' }], acceptedCryptosuites: [{ cryptosuite: 'Ed25519Signature2020' }, { cryptosuite: 'eddsa-rdfc-2022' }] }], 'a DIDAuthentication request for a did:key')
  t.equal(vpr.domain, BASE_URL, 'the domain is the service\'s public origin')
  t.ok(typeof vpr.challenge === 'string' && vpr.challenge.length >= 20, 'a random challenge')
  t.same(vpr.interact, { service: [{ type: 'UnmediatedPresentationService2021', serviceEndpoint: exchange }] }, 'the presentation goes back to the exchange')
  t.equal((await askForRequest(exchange)).challenge, vpr.challenge, 'asking again gives the same challenge (an exchange has one)')

  const wallet = await makeWallet('Ed25519Signature2020')
  const wrong = await present(exchange, vpr, await signDidAuth(wallet, { challenge: 'not-the-challenge', domain: vpr.domain }))
  t.equal(wrong.status, 400, 'a wrong challenge is refused')
  t.match(wrong.contentType, /^application\/problem\+json/)
  t.equal(wrong.body.type, PROBLEM + 'wallet_proof_refused')
  t.match(wrong.body.detail, /challenge/)

  // LCW signs a VCDM presentation with its Ed25519VerificationKey2020 (Ed25519Signature2020), holder its DID.
  const presentation = await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain })
  t.equal(presentation.proof.type, 'Ed25519Signature2020')
  const delivered = await present(exchange, vpr, presentation)
  t.equal(delivered.status, 200, `the right challenge still works after a wrong one: ${JSON.stringify(delivered.body)}`)
  t.notOk('verifiablePresentationRequest' in delivered.body, 'nothing more is asked (LCW stops when there is no request)')
  const vp = delivered.body.verifiablePresentation
  t.same(vp.type, ['VerifiablePresentation'])
  t.same(vp['@context'], ['https://www.w3.org/ns/credentials/v2'])
  t.ok(Array.isArray(vp.verifiableCredential) && vp.verifiableCredential.length === 1, 'LCW reads verifiablePresentation.verifiableCredential[0]')
  const credential = vp.verifiableCredential[0] as Json

  t.equal(credential.credentialSubject.id, wallet.did, 'credentialSubject.id is the wallet\'s DID')
  t.not(issued.credential.credentialSubject.id, wallet.did, 'it was the holder\'s urn:uuid before')
  t.equal(credential.id, issued.credential.id, 'the same credential id (its URL)')
  t.equal(credential.id, issued.url)

  const jwtResponse = await fetch(local(issued.url), { headers: { accept: 'application/vc+jwt' } })
  t.equal(jwtResponse.status, 200)
  await assertIndependentlyValid(t, app, credential, await jwtResponse.text(), new Date())

  const served = await fetch(local(issued.url), { headers: { accept: 'application/ld+json' } })
  t.equal(served.status, 200)
  t.same(await served.json(), credential, 'the credential URL now serves the bound version')

  const earlier = await verifyWithService(issued.credential)
  t.equal(earlier.verified, true, `the earlier version still verifies (not superseded): ${JSON.stringify(earlier.errors)}`)
  const bound = await verifyWithService(credential)
  t.equal(bound.verified, true, `the delivered version verifies with the service's verifier: ${JSON.stringify(bound.errors)}`)

  const again = await post(local(exchange), {})
  t.equal(again.status, 410, 'the offer is single-use: a second exchange is refused')
  t.equal(again.body.type, PROBLEM + 'wallet_offer_used')
  const replay = await present(exchange, vpr, presentation)
  t.equal(replay.status, 410, 'replaying the presentation is refused too')
  const reopened = await fetch(local(interaction), { headers: { accept: 'application/json' } })
  t.equal(reopened.status, 410, 'the interaction URL says it is used')

  const audit = await app.sql`select action, actor, details from audit_events where subject_id = ${issued.id} and action like 'wallet.%' order by id`
  const deliveries = audit.filter((row) => row.action === 'wallet.offer_delivered')
  t.equal(deliveries.length, 1, 'the delivery is audited once')
  t.equal(deliveries[0]?.details.protocol, 'vcapi')
  t.equal(deliveries[0]?.details.did, wallet.did)
  const made = audit.find((row) => row.action === 'wallet.offer_created' && row.details.offerId === deliveries[0]?.details.offerId)
  t.equal(made?.details.channel, 'portal', 'of the offer the portal made (the issue email made its own)')
})

t.test('an empty body starts the exchange; eddsa-rdfc-2022 is accepted; a presentation before a challenge is refused', async (t) => {
  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const wallet = await makeWallet('eddsa-rdfc-2022')

  const early = await present(exchange, {}, await signDidAuth(wallet, { challenge: 'guessed', domain: BASE_URL }))
  t.equal(early.status, 400, 'a presentation before any challenge was asked is refused')
  t.equal(early.body.type, PROBLEM + 'wallet_proof_refused')
  t.match(early.body.detail, /POST \{\}/)

  const empty = await fetch(local(exchange), { method: 'POST', headers: { 'content-type': 'application/json' } })
  t.equal(empty.status, 200, 'an empty JSON body asks for the request')
  const emptyNoType = await fetch(local(exchange), { method: 'POST' })
  t.equal(emptyNoType.status, 200, 'so does no body at all')
  const vpr = (await empty.json() as Json).verifiablePresentationRequest as Json

  const presentation = await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain })
  t.equal(presentation.proof.cryptosuite, 'eddsa-rdfc-2022')
  const delivered = await present(exchange, vpr, presentation)
  t.equal(delivered.status, 200, JSON.stringify(delivered.body))
  t.equal(delivered.body.verifiablePresentation.verifiableCredential[0].credentialSubject.id, wallet.did)
})

t.test('a VCDM 1.1 presentation (older wallets) is accepted', async (t) => {
  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const wallet = await makeWallet('Ed25519Signature2020')
  const vpr = await askForRequest(exchange)
  const delivered = await present(exchange, vpr, await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain, version: 1 }))
  t.equal(delivered.status, 200, JSON.stringify(delivered.body))
  t.equal(delivered.body.verifiablePresentation.verifiableCredential[0].credentialSubject.id, wallet.did)
})

t.test('LearnCard\'s Ed25519Signature2020 presentations (the suite context in the proof only) are accepted', async (t) => {
  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const wallet = await makeWallet('Ed25519Signature2020')
  const vpr = await askForRequest(exchange)
  // SpruceKit (LearnCard) states the suite context in the proof, not at the top of the presentation.
  const signed = await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain, version: 1 })
  const suiteContext = 'https://w3id.org/security/suites/ed25519-2020/v1'
  const asLearnCard = { ...signed, '@context': (signed['@context'] as string[]).filter((c) => c !== suiteContext), proof: { '@context': suiteContext, ...signed.proof } }
  const delivered = await present(exchange, vpr, asLearnCard)
  t.equal(delivered.status, 200, JSON.stringify(delivered.body))
})

t.test('released LCW (v2.2.9): its credential request link, a bare presentation without a domain, the badge in a bare presentation', async (t) => {
  const { issued, interaction } = await issuedWithOffer()
  const token = new URL(interaction).pathname.split('/').pop() ?? ''
  // The link the offer page gives LCW; the wallet reads it as credentialRequest.ts does.
  const link = new URL(lcwCredentialRequestLink(BASE_URL, token))
  t.equal(`${link.origin}${link.pathname}`, 'https://lcw.app/request')
  const params = Object.fromEntries(link.searchParams)
  t.equal(params.auth_type, 'bearer')
  t.equal(params.issuer, 'badges.test.example')
  t.ok(typeof params.challenge === 'string' && params.challenge.length >= 20, 'the link states the challenge')
  const requestUrl = params.vc_request_url ?? ''
  t.match(requestUrl, /^https:\/\/badges\.test\.example\/wallet\/exchanges\/[\w-]{43}\/credential-request$/)

  const wallet = await makeWallet('Ed25519Signature2020')
  // present.ts createVerifiablePresentation: holder the DID, the link's challenge, no domain; POSTed as it is.
  const wrong = await post(local(requestUrl), await signDidAuth(wallet, { challenge: 'another-challenge' }))
  t.equal(wrong.status, 400, 'a wrong challenge is refused')
  t.equal(wrong.body.type, PROBLEM + 'wallet_proof_refused')
  const elsewhere = await post(local(requestUrl), await signDidAuth(wallet, { challenge: params.challenge ?? '', domain: 'https://elsewhere.example' }))
  t.equal(elsewhere.status, 400, 'a domain, if named, must be ours')

  const reply = await post(local(requestUrl), await signDidAuth(wallet, { challenge: params.challenge ?? '' }))
  t.equal(reply.status, 200, JSON.stringify(reply.body))
  t.same(reply.body.type, ['VerifiablePresentation'], 'a bare presentation: LCW\'s extractCredentialsFrom reads its verifiableCredential')
  const credential = reply.body.verifiableCredential[0] as Json
  t.equal(credential.credentialSubject.id, wallet.did, 'bound to the wallet\'s DID')
  t.equal(credential.id, issued.url)
  const bound = await verifyWithService(credential)
  t.equal(bound.verified, true, JSON.stringify(bound.errors))

  const again = await post(local(requestUrl), await signDidAuth(wallet, { challenge: params.challenge ?? '' }))
  t.equal(again.status, 410, 'single-use, like the exchange')
  const exchange = await post(local(await vcapiOf(interaction).catch(() => `${BASE_URL}/wallet/exchanges/${token}`)), {})
  t.equal(exchange.status, 410, 'and the VC API exchange of the same offer is used too')
})

t.test('refused presentations: wrong domain, bad signature, not a did:key, holder not the signer; too many close the offer', async (t) => {
  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const vpr = await askForRequest(exchange)
  const wallet = await makeWallet('Ed25519Signature2020')

  const refusals: Array<[string, Json, RegExp]> = []
  refusals.push(['a wrong domain', await signDidAuth(wallet, { challenge: vpr.challenge, domain: 'https://elsewhere.example' }), /domain/])
  refusals.push(['no domain', await signDidAuth(wallet, { challenge: vpr.challenge }), /domain/])
  const tampered = await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain })
  const value = tampered.proof.proofValue as string
  tampered.proof.proofValue = `${value.slice(0, 20)}${value[20] === 'a' ? 'b' : 'a'}${value.slice(21)}`
  refusals.push(['a bad signature', tampered, /signature/])
  refusals.push(['a did:web holder', await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain, verificationMethod: 'did:web:wallet.example#key-1', holder: 'did:web:wallet.example' }), /did:key/])
  const other = await makeWallet('Ed25519Signature2020')
  refusals.push(['a holder that did not sign', await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain, holder: other.did }), /holder/])
  t.equal(refusals.length, MAX_FAILED_ATTEMPTS)

  for (const [what, presentation, message] of refusals) {
    const reply = await present(exchange, vpr, presentation)
    t.equal(reply.status, 400, `${what} is refused`)
    t.equal(reply.body.type, PROBLEM + 'wallet_proof_refused', what)
    t.match(reply.body.detail, message, `${what}: ${String(reply.body.detail)}`)
  }
  const [row] = await app.sql`select failed_attempts, delivered_at from wallet_offers where vcapi_challenge = ${vpr.challenge}`
  t.equal(row?.failed_attempts, MAX_FAILED_ATTEMPTS, 'each refusal is counted')

  const honest = await present(exchange, vpr, await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain }))
  t.equal(honest.status, 410, `after ${MAX_FAILED_ATTEMPTS} refusals the offer is closed, even for the right presentation`)
  t.equal(honest.body.type, PROBLEM + 'wallet_offer_used')
})

t.test('an unknown token is 404, an expired offer 410', async (t) => {
  const unknown = await post(`${address}/wallet/exchanges/${'A'.repeat(43)}`, {})
  t.equal(unknown.status, 404)
  t.equal(unknown.body.type, PROBLEM + 'wallet_offer_unknown')

  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const vpr = await askForRequest(exchange)
  const wallet = await makeWallet()
  const presentation = await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain })
  clockOffsetMs = 16 * 60_000
  try {
    const late = await present(exchange, vpr, presentation)
    t.equal(late.status, 410, 'a portal offer lives 15 minutes')
    t.equal(late.body.type, PROBLEM + 'wallet_offer_expired')
    const ask = await post(local(exchange), {})
    t.equal(ask.status, 410)
  } finally {
    clockOffsetMs = 0
  }
})

t.test('two wallets racing on one offer: one delivery', async (t) => {
  const { issued, interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const vpr = await askForRequest(exchange)
  const wallets: Wallet[] = [await makeWallet('Ed25519Signature2020'), await makeWallet('eddsa-rdfc-2022')]
  const presentations = await Promise.all(wallets.map(async (w) => await signDidAuth(w, { challenge: vpr.challenge, domain: vpr.domain })))
  const replies = await Promise.all(presentations.map(async (p) => await present(exchange, vpr, p)))
  t.same(replies.map((r) => r.status).sort(), [200, 410], `one wallet receives the badge, the other 410: ${JSON.stringify(replies.map((r) => r.body.type ?? 'delivered'))}`)
  const winner = replies.findIndex((r) => r.status === 200)
  const versions = await app.sql`select version, subject_id from credential_versions where credential_id = ${issued.id} order by version`
  t.equal(versions.length, 2, 'one new version')
  t.equal(versions[1]?.subject_id, wallets[winner]?.did, 'bound to the winner\'s DID')
})

t.test('a revoked badge is not delivered', async (t) => {
  const { issued, interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const vpr = await askForRequest(exchange)
  const revoked = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'issued in error' } })
  t.equal(revoked.statusCode, 200)
  const wallet = await makeWallet()
  const reply = await present(exchange, vpr, await signDidAuth(wallet, { challenge: vpr.challenge, domain: vpr.domain }))
  t.equal(reply.status, 409, 'refused')
  t.equal(reply.body.type, PROBLEM + 'credential_revoked')
  const versions = await app.sql`select version from credential_versions where credential_id = ${issued.id}`
  t.equal(versions.length, 1, 'no version bound to the wallet')
})

t.test('browser-based wallets may run the exchange (CORS, no cookies)', async (t) => {
  const { interaction } = await issuedWithOffer()
  const exchange = await vcapiOf(interaction)
  const preflight = await fetch(local(exchange), { method: 'OPTIONS', headers: { origin: 'https://wallet.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  t.equal(preflight.status, 204)
  t.equal(preflight.headers.get('access-control-allow-origin'), '*')
  const asked = await fetch(local(exchange), { method: 'POST', headers: { origin: 'https://wallet.example', 'content-type': 'application/json' }, body: '{}' })
  t.equal(asked.status, 200)
  t.equal(asked.headers.get('access-control-allow-origin'), '*')
  t.equal(asked.headers.get('cache-control'), 'no-store')
})
