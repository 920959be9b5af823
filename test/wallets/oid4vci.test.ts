import type { AddressInfo } from 'node:net'
import { freePort } from '../../src/infrastructure/db/embedded.js'
import t from 'tap'
import type { Test } from 'tap'
import { createWalletOffer, MAX_FAILED_ATTEMPTS, type CreatedOffer } from '../../src/capabilities/wallets/offers.js'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { assertIndependentlyValid } from '../helpers/independent-checks.js'
import { fetchVia, generateDidJwk, generateWalletKey, signWithWalletKey, walletClient, type WalletKey } from '../helpers/oid4vci-wallet.js'

/**
 * OpenID for Verifiable Credential Issuance 1.0, pre-authorised code flow,
 * played by a wallet over real HTTP: the OpenWallet Foundation's
 * Openid4vciClient with its own did:key (test/helpers/oid4vci-wallet.ts),
 * against the app listening on a loopback port (the wallet's fetch sends
 * PUBLIC_BASE_URL there, as DNS would). The delivered credential is checked
 * with the independent verifiers (test/helpers/independent-checks.ts).
 */

const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code'
const CONFIGURATION = 'OpenBadgeCredential_ldp_vc'

interface Setup { app: TestApp, listening: string, fetcher: typeof fetch, credentialId: string, clock: { now: Date } }

async function setUp (t: Test, beforeListening?: (app: TestApp) => void): Promise<Setup> {
  const clock = { now: new Date() }
  const app = await build(t, { clock: () => clock.now })
  beforeListening?.(app)
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const listening = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`
  return { app, listening, fetcher: fetchVia(BASE_URL, listening), credentialId: issued.id, clock }
}

const offerFor = async (s: Setup, channel: 'portal' | 'email'): Promise<CreatedOffer> =>
  await createWalletOffer({ sql: s.app.sql, now: s.clock.now, baseUrl: BASE_URL, actor: 'test' }, { credentialId: s.credentialId, holderEmail: 'jane@example.org', channel, revoked: false })

const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() })

async function tokenRequest (s: Setup, fields: Record<string, string>): Promise<{ status: number, body: Record<string, any>, headers: Headers }> {
  const response = await s.fetcher(`${BASE_URL}/wallet/oid4vci/token`, form({ grant_type: PRE_AUTH, ...fields }))
  return { status: response.status, body: await response.json() as Record<string, any>, headers: response.headers }
}

async function credentialRequest (s: Setup, accessToken: string, body: unknown): Promise<{ status: number, body: Record<string, any>, headers: Headers }> {
  const response = await s.fetcher(`${BASE_URL}/wallet/oid4vci/credential`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as Record<string, any>, headers: response.headers }
}

async function freshNonce (s: Setup): Promise<string> {
  const response = await s.fetcher(`${BASE_URL}/wallet/oid4vci/nonce`, { method: 'POST' })
  return (await response.json() as { c_nonce: string }).c_nonce
}

const proof = async (key: WalletKey, claims: Record<string, unknown>): Promise<string> =>
  await signWithWalletKey(key, { typ: 'openid4vci-proof+jwt', kid: key.kid }, { aud: BASE_URL, iat: Math.floor(Date.now() / 1000), ...claims })

/** The whole flow with the library's client; returns what the wallet received. */
async function receive (s: Setup, key: WalletKey, offer: CreatedOffer): Promise<{ credential: Record<string, any>, accessToken: string }> {
  const client = walletClient(key, s.fetcher)
  const credentialOffer = await client.resolveCredentialOffer(offer.urls.oid4vciOffer)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, ...(offer.txCode !== undefined ? { txCode: offer.txCode } : {}) })
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const configurationId = credentialOffer.credential_configuration_ids[0]!
  const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configurationId, signer: { method: 'did', didUrl: key.kid, alg: key.alg }, nonce })
  const { credentialResponse } = await client.retrieveCredentials({ issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: configurationId, proofs: { jwt: [jwt] } })
  const first = credentialResponse.credentials?.[0] as { credential?: unknown } | undefined
  const credential = first?.credential
  if (typeof credential !== 'object' || credential === null) throw new Error(`no credential in ${JSON.stringify(credentialResponse)}`)
  return { credential: credential as Record<string, any>, accessToken: accessTokenResponse.access_token }
}

async function currentJwt (s: Setup): Promise<string> {
  const response = await s.app.app.inject({ method: 'GET', url: `/credentials/${s.credentialId}`, headers: { accept: 'application/vc+jwt' } })
  return response.body
}

t.test('metadata: the credential issuer names its own authorization server, apart from the Open Badges API\'s oidc-provider', async (t) => {
  const s = await setUp(t)
  const issuer = await (await s.fetcher(`${BASE_URL}/.well-known/openid-credential-issuer`)).json() as Record<string, any>
  t.equal(issuer.credential_issuer, BASE_URL)
  t.same(issuer.authorization_servers, [`${BASE_URL}/wallet/oid4vci`])
  t.equal(issuer.credential_endpoint, `${BASE_URL}/wallet/oid4vci/credential`)
  t.equal(issuer.nonce_endpoint, `${BASE_URL}/wallet/oid4vci/nonce`)
  const configuration = issuer.credential_configurations_supported[CONFIGURATION]
  t.equal(configuration.format, 'ldp_vc')
  t.same(configuration.credential_definition.type, ['VerifiableCredential', 'OpenBadgeCredential'])
  t.same(configuration.credential_definition['@context'], ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json'])
  t.same(configuration.cryptographic_binding_methods_supported, ['did:key', 'did:jwk'])
  t.same(configuration.proof_types_supported, { jwt: { proof_signing_alg_values_supported: ['EdDSA', 'ES256'] } })
  t.equal(issuer.display[0].name, 'American Association of Medical Assistants')

  const as = await (await s.fetcher(`${BASE_URL}/.well-known/oauth-authorization-server/wallet/oid4vci`)).json() as Record<string, any>
  t.equal(as.issuer, `${BASE_URL}/wallet/oid4vci`, 'RFC 8414: the issuer is the identifier the metadata was asked for')
  t.equal(as.token_endpoint, `${BASE_URL}/wallet/oid4vci/token`)
  t.same(as.grant_types_supported, [PRE_AUTH])
  t.equal(as['pre-authorized_grant_anonymous_access_supported'], true)
  const appended = await (await s.fetcher(`${BASE_URL}/wallet/oid4vci/.well-known/openid-configuration`)).json()
  t.same(appended, as, 'the same document where wallets that append the suffix look')
  const oidc = await (await s.fetcher(`${BASE_URL}/.well-known/openid-configuration`)).json() as Record<string, any>
  t.equal(oidc.issuer, BASE_URL, 'the Open Badges API\'s authorization server is untouched')
  t.equal(new URL(oidc.token_endpoint as string).pathname, '/oauth/token')
  t.notOk((oidc.grant_types_supported as string[]).includes(PRE_AUTH), 'which takes no pre-authorised code')
})

t.test('a portal offer: the wallet resolves it, gets a token without a transaction code, proves its did:key and receives the badge bound to it', async (t) => {
  const s = await setUp(t)
  const key = await generateWalletKey('Ed25519')
  const offer = await offerFor(s, 'portal')

  const byReference = await s.fetcher(offer.urls.oid4vciOfferUri)
  t.equal(byReference.headers.get('cache-control'), 'no-store')
  const offered = await byReference.json() as Record<string, any>
  t.same(offered, { credential_issuer: BASE_URL, credential_configuration_ids: [CONFIGURATION], grants: { [PRE_AUTH]: { 'pre-authorized_code': offer.preAuthorizedCode } } }, 'no tx_code for a portal offer')

  const { credential, accessToken } = await receive(s, key, offer)
  t.equal(credential.credentialSubject.id, key.did, 'credentialSubject.id is the wallet\'s DID')
  t.equal(credential.id, `${BASE_URL}/credentials/${s.credentialId}`, 'the same credential URL and id')
  t.same(credential.type, ['VerifiableCredential', 'OpenBadgeCredential'])
  t.same([credential.proof].flat().map((p: { type: string, cryptosuite: string }) => `${p.type}/${p.cryptosuite}`), ['DataIntegrityProof/eddsa-rdfc-2022'])
  await assertIndependentlyValid(t, s.app, credential, await currentJwt(s), s.clock.now)
  const current = (await s.app.app.inject({ method: 'GET', url: `/credentials/${s.credentialId}`, headers: { accept: 'application/ld+json' } })).json()
  t.same(current, credential, 'the delivered credential is the credential URL\'s current version')

  const [row] = await s.app.sql<Array<{ deliveredProtocol: string, subjectDid: string, accessTokenHash: string | null }>>`select delivered_protocol as "deliveredProtocol", subject_did as "subjectDid", access_token_hash as "accessTokenHash" from wallet_offers where id = ${offer.id}`
  t.same(row, { deliveredProtocol: 'oid4vci', subjectDid: key.did, accessTokenHash: null }, 'the offer is used')
  const audited = await s.app.sql`select action from audit_events where subject_id = ${s.credentialId} and action like 'wallet.%' order by id`
  t.ok(audited.some((e) => e.action === 'wallet.offer_delivered'), 'the delivery is audited')

  // The token served once: a second credential request is refused, as is the offer, and the code.
  const again = await credentialRequest(s, accessToken, { credential_configuration_id: CONFIGURATION, proofs: { jwt: [await proof(key, { nonce: await freshNonce(s) })] } })
  t.equal(again.status, 401)
  t.equal(again.body.error, 'invalid_token')
  t.match(again.headers.get('www-authenticate'), /^Bearer error="invalid_token"/)
  const reused = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  t.equal(reused.status, 400)
  t.equal(reused.body.error, 'invalid_grant', 'the pre-authorised code works once')
  t.equal((await s.fetcher(offer.urls.oid4vciOfferUri)).status, 410, 'the used offer is gone')
})

t.test('an email offer needs its transaction code: none is invalid_request, a wrong one invalid_grant, the right one a token', async (t) => {
  const s = await setUp(t)
  const offer = await offerFor(s, 'email')
  t.ok(offer.txCode !== undefined)
  const offered = await (await s.fetcher(offer.urls.oid4vciOfferUri)).json() as Record<string, any>
  t.match(offered.grants[PRE_AUTH], { 'pre-authorized_code': offer.preAuthorizedCode, tx_code: { input_mode: 'numeric', length: 6 } })
  t.ok(typeof offered.grants[PRE_AUTH].tx_code.description === 'string')

  const none = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  t.equal(none.status, 400)
  t.equal(none.body.error, 'invalid_request')
  const wrongCode = offer.txCode === '000000' ? '000001' : '000000'
  const wrong = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode, tx_code: wrongCode })
  t.equal(wrong.status, 400)
  t.equal(wrong.body.error, 'invalid_grant')
  t.match(wrong.body.error_description, /4 tries left/)
  t.equal(wrong.headers.get('content-type')?.split(';')[0], 'application/json', 'OAuth errors are OAuth JSON, not problems')
  t.equal(wrong.headers.get('cache-control'), 'no-store')

  // The library's client with the code the email gave.
  const key = await generateWalletKey('P-256')
  const { credential } = await receive(s, key, offer)
  t.equal(credential.credentialSubject.id, key.did, 'a P-256 did:key is bound too')
  await assertIndependentlyValid(t, s.app, credential, await currentJwt(s), s.clock.now)
})

t.test('the requests LearnCard\'s wallet sends (draft 13: appended well-known suffix, c_nonce from the token response, format + credential_identifier + proof) are served', async (t) => {
  const s = await setUp(t)
  const key = await generateWalletKey('Ed25519')
  const offer = await offerFor(s, 'email')
  // As learningeconomy/LearnCard packages/plugins/openid4vc/src/vci (metadata.ts, token.ts, proof.ts, request.ts) does it.
  const offered = await (await s.fetcher(offer.urls.oid4vciOfferUri)).json() as Record<string, any>
  const issuer = await (await s.fetcher(`${offered.credential_issuer as string}/.well-known/openid-credential-issuer`)).json() as Record<string, any>
  const as = await (await s.fetcher(`${issuer.authorization_servers[0] as string}/.well-known/oauth-authorization-server`)).json() as Record<string, any>
  const token = await (await s.fetcher(as.token_endpoint, form({ grant_type: PRE_AUTH, 'pre-authorized_code': offered.grants[PRE_AUTH]['pre-authorized_code'], tx_code: offer.txCode! }))).json() as Record<string, any>
  t.ok(typeof token.c_nonce === 'string', 'a c_nonce in the token response, as draft 13 wallets expect')
  const jwt = await signWithWalletKey(key, { typ: 'openid4vci-proof+jwt', kid: key.kid }, { aud: offered.credential_issuer, iat: Math.floor(Date.now() / 1000), nonce: token.c_nonce })
  const response = await s.fetcher(issuer.credential_endpoint, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `${token.token_type as string} ${token.access_token as string}` }, body: JSON.stringify({ format: 'ldp_vc', proof: { proof_type: 'jwt', jwt }, credential_identifier: CONFIGURATION }) })
  const body = await response.json() as Record<string, any>
  t.equal(response.status, 200, String(body.error_description ?? 'served'))
  t.equal(body.credentials?.[0]?.credential?.credentialSubject?.id, key.did)
})

t.test('wrong transaction codes close the offer after MAX_FAILED_ATTEMPTS', async (t) => {
  const s = await setUp(t)
  const offer = await offerFor(s, 'email')
  const wrongCode = offer.txCode === '000000' ? '000001' : '000000'
  for (let i = 0; i < MAX_FAILED_ATTEMPTS; i++) {
    t.equal((await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode, tx_code: wrongCode })).body.error, 'invalid_grant')
  }
  const right = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode, tx_code: offer.txCode! })
  t.equal(right.status, 400)
  t.equal(right.body.error, 'invalid_grant')
  t.match(right.body.error_description, /closed/)
  t.equal((await s.fetcher(offer.urls.oid4vciOfferUri)).status, 410)
})

t.test('proofs: a wrong nonce is invalid_nonce, a wrong audience or foreign key invalid_proof; then the right proof is served', async (t) => {
  const s = await setUp(t)
  const key = await generateDidJwk('P-256')
  const offer = await offerFor(s, 'portal')
  const token = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  t.equal(token.status, 200)
  t.equal(token.body.token_type, 'Bearer')
  t.equal(token.headers.get('cache-control'), 'no-store')
  const accessToken = token.body.access_token as string
  const request = async (jwt: string): Promise<{ status: number, body: Record<string, any> }> => await credentialRequest(s, accessToken, { credential_configuration_id: CONFIGURATION, proofs: { jwt: [jwt] } })

  const forgedNonce = await request(await proof(key, { nonce: 'made-up.9999999999.AAAA' }))
  t.equal(forgedNonce.status, 400)
  t.equal(forgedNonce.body.error, 'invalid_nonce')
  const noNonce = await request(await proof(key, {}))
  t.equal(noNonce.body.error, 'invalid_nonce')
  const wrongAudience = await request(await proof(key, { nonce: await freshNonce(s), aud: 'https://elsewhere.example' }))
  t.equal(wrongAudience.status, 400)
  t.equal(wrongAudience.body.error, 'invalid_proof')
  const otherKey = await generateWalletKey('Ed25519')
  const foreign = await request(await signWithWalletKey(otherKey, { typ: 'openid4vci-proof+jwt', kid: key.kid }, { aud: BASE_URL, iat: Math.floor(Date.now() / 1000), nonce: await freshNonce(s) }))
  t.equal(foreign.body.error, 'invalid_proof', 'a signature by another key than the kid names')
  const wrongTyp = await request(await signWithWalletKey(key, { typ: 'JWT', kid: key.kid }, { aud: BASE_URL, iat: Math.floor(Date.now() / 1000), nonce: await freshNonce(s) }))
  t.equal(wrongTyp.body.error, 'invalid_proof')
  const bareJwk = await request(await signWithWalletKey(key, { typ: 'openid4vci-proof+jwt', jwk: key.publicJwk }, { aud: BASE_URL, iat: Math.floor(Date.now() / 1000), nonce: await freshNonce(s) }))
  t.equal(bareJwk.body.error, 'invalid_proof', 'the badge is bound to a DID: a bare jwk is refused')
  const wrongConfiguration = await credentialRequest(s, accessToken, { credential_configuration_id: 'SomethingElse', proofs: { jwt: [await proof(key, { nonce: await freshNonce(s) })] } })
  t.equal(wrongConfiguration.status, 400)
  t.equal(wrongConfiguration.body.error, 'unknown_credential_configuration')
  const noToken = await s.fetcher(`${BASE_URL}/wallet/oid4vci/credential`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(noToken.status, 401)
  t.equal(noToken.headers.get('www-authenticate'), 'Bearer')

  const served = await request(await proof(key, { nonce: await freshNonce(s) }))
  t.equal(served.status, 200, String(served.body.error_description ?? 'served'))
  t.equal(served.body.credentials[0].credential.credentialSubject.id, key.did, 'a did:jwk is bound too')
})

t.test('an expired offer is refused: by reference and at the token endpoint', async (t) => {
  const s = await setUp(t)
  const offer = await offerFor(s, 'portal')
  s.clock.now = new Date(s.clock.now.getTime() + 16 * 60_000)
  const byReference = await s.fetcher(offer.urls.oid4vciOfferUri)
  t.equal(byReference.status, 410)
  const client = walletClient(await generateWalletKey(), s.fetcher)
  await t.rejects(client.resolveCredentialOffer(offer.urls.oid4vciOffer), 'the library\'s client cannot resolve it')
  const token = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  t.equal(token.status, 400)
  t.equal(token.body.error, 'invalid_grant')
  t.match(token.body.error_description, /expired/)
  const unknown = await s.fetcher(`${BASE_URL}/wallet/oid4vci/offers/${'A'.repeat(43)}`)
  t.equal(unknown.status, 404)
})

t.test('an access token outlives neither its ten minutes nor its offer', async (t) => {
  const s = await setUp(t)
  const key = await generateWalletKey()
  const offer = await offerFor(s, 'portal')
  const token = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  s.clock.now = new Date(s.clock.now.getTime() + 11 * 60_000)
  const late = await credentialRequest(s, token.body.access_token, { credential_configuration_id: CONFIGURATION, proofs: { jwt: [await proof(key, { nonce: await freshNonce(s) })] } })
  t.equal(late.status, 401)
  t.equal(late.body.error, 'invalid_token')
  t.match(late.body.error_description, /expired/)
})

t.test('the OID4VCI routes answer only statuses and content types they declare, and are in /openapi.json', async (t) => {
  const answered: Array<{ route: string, method: string, status: number, type: string }> = []
  const s = await setUp(t, (app) => {
    app.app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.url === undefined) return
      answered.push({ route: request.routeOptions.url, method: request.method, status: reply.statusCode, type: String(reply.getHeader('content-type') ?? '').split(';')[0]!.trim() })
    })
  })
  const offer = await offerFor(s, 'email')
  const key = await generateWalletKey()
  await s.fetcher(`${BASE_URL}/.well-known/openid-credential-issuer`)
  await s.fetcher(`${BASE_URL}/.well-known/oauth-authorization-server/wallet/oid4vci`)
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/.well-known/oauth-authorization-server`)
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/.well-known/openid-configuration`)
  await s.fetcher(offer.urls.oid4vciOfferUri)
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/offers/${'A'.repeat(43)}`)
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/offers/not-a-token`)
  await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode })
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/token`, form({ grant_type: 'authorization_code', code: 'x' }))
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
  const token = await tokenRequest(s, { 'pre-authorized_code': offer.preAuthorizedCode, tx_code: offer.txCode! })
  await s.fetcher(`${BASE_URL}/wallet/oid4vci/nonce`, { method: 'POST' })
  await credentialRequest(s, 'nope', {})
  await credentialRequest(s, token.body.access_token, { proofs: 'x' })
  await credentialRequest(s, token.body.access_token, { credential_configuration_id: CONFIGURATION, proofs: { jwt: [await proof(key, { nonce: await freshNonce(s) })] } })

  const routes = new Map(s.app.app.routeTable.map((route) => [`${[route.method].flat()[0] ?? ''} ${route.url}`, route]))
  for (const answer of answered) {
    const route = routes.get(`${answer.method} ${answer.route}`)
    const declared = ((route?.schema ?? {}) as { response?: Record<string, { content?: Record<string, unknown> }> }).response ?? {}
    const entry = declared[answer.status]
    t.ok(entry !== undefined && (entry.content === undefined ? /json/.test(answer.type) : answer.type in entry.content), `${answer.method} ${answer.route} ${answer.status} ${answer.type}: declared`)
  }
  const ours = s.app.app.routeTable.filter((r) => (r.url.includes('oid4vci') || r.url.includes('openid-credential-issuer')) && [r.method].flat()[0] !== 'HEAD')
  t.equal(ours.length, 8)
  const visited = new Set(answered.map((a) => `${a.method} ${a.route}`))
  t.same(ours.map((r) => `${[r.method].flat()[0] ?? ''} ${r.url}`).filter((name) => !visited.has(name)), [], 'every route visited')
  t.ok(answered.some((a) => a.status === 401 && a.type === 'application/json'))
  const doc = (await s.app.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  for (const route of ours) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}')
    t.ok(doc.paths[path]?.[String([route.method].flat()[0]).toLowerCase()], `${route.url} is documented`)
  }
})

t.test('a service on an http:// base (development) answers the library\'s client too, with no origin mapping', async (t) => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await build(t, { env: { PUBLIC_BASE_URL: base } })
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  await app.app.listen({ port, host: '127.0.0.1' })
  const s: Setup = { app, listening: base, fetcher: fetch, credentialId: issued.id, clock: { now: new Date() } }
  const offer = await createWalletOffer({ sql: app.sql, now: new Date(), baseUrl: base, actor: 'test' }, { credentialId: issued.id, holderEmail: 'jane@example.org', channel: 'portal', revoked: false })
  const key = await generateWalletKey()
  const { credential } = await receive(s, key, offer)
  t.equal(credential.credentialSubject.id, key.did)
  t.equal(credential.id, `${base}/credentials/${issued.id}`)
})
