import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { CompactSign, exportJWK, generateKeyPair } from 'jose'
import t, { type Test } from 'tap'
import { signDataIntegrity } from '../../src/infrastructure/signing/sign.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import { publicUrls } from '../../src/kernel/public-urls.js'
import { databaseSources } from '../../src/capabilities/verification/database-sources.js'
import { recognisedIssuers } from '../../src/capabilities/registry/lookup.js'
import { LIMITS } from '../../src/capabilities/verification/limits.js'
import { ownershipClassifier } from '../../src/capabilities/verification/ownership.js'
import type { VerificationResult } from '../../src/capabilities/verification/result.js'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import { BASE_URL, build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'

// Adversarial rewrites of genuine credentials: each must come out revoked,
// expired or invalid, never valid. The service's own credentials are issued
// by the real app on a real PostgreSQL; foreign ones are signed here.

type Json = Record<string, any>
const NOW = new Date('2026-11-24T12:00:00Z')
const VC = 'https://www.w3.org/2018/credentials#'
const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime'

const check = (result: { checks: Array<{ id: string, result: string, message: string }> }, id: string): { result: string, message: string } | undefined =>
  result.checks.find((c) => c.id === id)

async function postVerify (app: TestApp, verifiableCredential: unknown): Promise<{ statusCode: number, body: VerificationResult }> {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential } as object })
  return { statusCode: response.statusCode, body: response.json() }
}

async function ownCredential (t: Test, options: { validFrom: string, revoke?: boolean }): Promise<{ app: TestApp, credential: Json, jwt: string, id: string }> {
  const app = await build(t, { clock: () => NOW })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: options.validFrom })
  if (options.revoke === true) {
    const revoked = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'Annulled' } })
    if (revoked.statusCode !== 200) throw new Error(`revoking failed: ${revoked.body}`)
  }
  return { app, credential: issued.credential, jwt: issued.jwt, id: issued.id }
}

/** The same signed graph, with one field moved under its expanded IRI. */
function underIri (credential: Json, field: string, value: unknown): Json {
  const { [field]: _, ...rest } = credential
  return { ...rest, [VC + field]: value }
}

/** The same signed graph, with one field renamed to an alias defined by an inline context. */
function underAlias (credential: Json, field: string, definition: Json): Json {
  const { [field]: value, ...rest } = credential
  return { ...rest, '@context': [...credential['@context'], { aka: definition }], aka: value }
}

const REWRITES: Array<[string, (c: Json) => Json]> = [
  ['credentialStatus under its expanded IRI', (c) => underIri(c, 'credentialStatus', c.credentialStatus)],
  ['credentialStatus under an inline-context alias', (c) => underAlias(c, 'credentialStatus', { '@id': `${VC}credentialStatus`, '@type': '@id' })],
  ['validUntil under its expanded IRI', (c) => underIri(c, 'validUntil', { '@value': c.validUntil, '@type': XSD_DATETIME })],
  ['validUntil under an inline-context alias', (c) => underAlias(c, 'validUntil', { '@id': `${VC}validUntil`, '@type': XSD_DATETIME })],
  ['validUntil tucked into an @nest from an inline context', (c) => {
    const { validUntil, ...rest } = c
    return { ...rest, '@context': [...c['@context'], { meta: '@nest' }], meta: { validUntil } }
  }]
]

t.test('rewrites of a revoked and of an expired credential of ours are never valid', async (t) => {
  const revoked = await ownCredential(t, { validFrom: '2026-03-31T00:00:00Z', revoke: true })
  const expired = await ownCredential(t, { validFrom: '2021-03-31T00:00:00Z' })
  for (const [what, rewrite] of REWRITES) {
    for (const [label, own] of [['revoked', revoked], ['expired', expired]] as const) {
      const { statusCode, body } = await postVerify(own.app, rewrite(own.credential))
      t.equal(statusCode, 422, `${label}, ${what}: 422`)
      t.not(body.status, 'valid', `${label}, ${what}: ${body.status}`)
      t.ok(['invalid', label].includes(body.status), `${label}, ${what}: ${label} or invalid`)
      if (body.status === 'invalid') t.match(`${check(body, 'format')?.message ?? ''} ${check(body, 'signed_data')?.message ?? ''}`, /does not state plainly what its proof signed|"@context" must be exactly/, `${label}, ${what}: the format or signed_data check says why`)
    }
  }
})

/** A foreign issuer, trusted by the deployment, so that only the rewrite stands between the credential and "valid". */
async function foreignSigned (unsigned: Json): Promise<Json> {
  const key = await Ed25519Multikey.generate()
  const issuer = unsigned.issuer.id as string
  const verificationMethod = `${issuer}#${key.publicKeyMultibase}`
  const keyPair = await Ed25519Multikey.from({ ...(await key.export({ publicKey: true, secretKey: true })), id: verificationMethod, controller: issuer })
  return await signDataIntegrity(unsigned as any, { keyId: 'test', verificationMethod, keyPair }, NOW)
}

function foreignCredential (extra: Json = {}): Json {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:0b6f5a2e-6a0c-4d52-9d2b-4a1f5d6e7c80',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: 'https://registry.example.org/issuers/1', type: ['Profile'], name: 'Example Registry' },
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2025-01-01T00:00:00Z',
    name: 'Phlebotomy Technician',
    credentialSubject: {
      type: ['AchievementSubject'],
      achievement: { id: 'https://registry.example.org/achievements/pt', type: ['Achievement'], name: 'Phlebotomy Technician', description: 'Certified.', criteria: { narrative: 'Passed the exam.' } }
    },
    ...extra
  }
}

const trusting: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'test-entry', name: id }) }

t.test('a foreign expired credential rewritten under IRI keys or aliases keeps a good signature but is never valid', async (t) => {
  const signed = await foreignSigned(foreignCredential())
  const original = await verifyCredential(signed, { now: NOW, sources: trusting })
  t.equal(original.status, 'expired', 'as signed, it is expired')
  for (const [what, rewrite] of REWRITES.filter(([w]) => w.startsWith('validUntil'))) {
    const result = await verifyCredential(rewrite(signed), { now: NOW, sources: trusting })
    t.equal(check(result, 'proof')?.result, 'passed', `${what}: the signature still verifies`)
    t.ok(['invalid', 'expired'].includes(result.status), `${what}: ${result.status}`)
    t.equal(check(result, 'signed_data')?.result, 'failed', `${what}: the signed_data check fails`)
    t.match(check(result, 'signed_data')?.message, 'does not state plainly what its proof signed', `${what}: and says why`)
  }
})

t.test('a status entry split between the plain key and its IRI is caught', async (t) => {
  const entry = (index: string): Json => ({ id: `https://registry.example.org/status/1#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: index, statusListCredential: 'https://registry.example.org/status/1' })
  const signed = await foreignSigned(foreignCredential({ validUntil: '2030-01-01T00:00:00Z', credentialStatus: [entry('7'), entry('8')] }))
  const { credentialStatus, ...rest } = signed
  const split = { ...rest, credentialStatus: [credentialStatus[0]], [`${VC}credentialStatus`]: [credentialStatus[1]] }
  const result = await verifyCredential(split, { now: NOW, sources: trusting })
  t.equal(check(result, 'proof')?.result, 'passed')
  t.equal(result.status, 'invalid')
  t.match(check(result, 'signed_data')?.message, /\$\["https:\/\/www\.w3\.org\/2018\/credentials#credentialStatus"\] \(an IRI, not a term\).*signed statement\(s\) are not in its plain JSON/)
})

// Every spelling of our issuer URL that is not the canonical one.
const CANONICAL_ISSUER = `${BASE_URL}/issuers/main`
const VARIANTS = [
  `${CANONICAL_ISSUER}?`,
  `${CANONICAL_ISSUER}?x=1`,
  `${BASE_URL}/issuers/%6Dain`,
  `${BASE_URL}/./issuers/main`,
  CANONICAL_ISSUER.replace('https:', 'HTTPS:'),
  CANONICAL_ISSUER.replace('badges.test.example', 'BADGES.test.example'),
  `${CANONICAL_ISSUER}/`,
  CANONICAL_ISSUER.replace('badges.test.example', 'badges.test.example:443'),
  CANONICAL_ISSUER.replace('https://', 'https://user:pass@'),
  CANONICAL_ISSUER.replace('badges.test.example', 'badges.test.example.'),
  CANONICAL_ISSUER.replace('https:', 'http:')
]

t.test('every other spelling of our issuer id is an impostor, never a foreign issuer', async (t) => {
  const ownership = ownershipClassifier(BASE_URL)
  t.equal(ownership(CANONICAL_ISSUER), 'own')
  t.equal(ownership(`${CANONICAL_ISSUER}#z6MkTest`), 'own', 'a key fragment on the canonical id')
  for (const variant of VARIANTS) t.equal(ownership(variant), 'impostor', variant)
  t.equal(ownership('https://badges.test.example.org/issuers/main'), 'foreign', 'a look-alike host is simply foreign')
  t.equal(ownership('did:key:z6MkTest'), 'foreign')
  const local = ownershipClassifier('http://localhost:3000')
  t.equal(local('http://localhost:3000/issuers/main'), 'own')
  for (const variant of ['http://127.0.0.1:3000/issuers/main', 'http://[::1]:3000/issuers/main', 'http://LOCALHOST:3000/issuers/main', 'http://localhost:80/issuers/main']) {
    t.equal(local(variant), 'impostor', variant)
  }
})

t.test('a forger naming a variant of our issuer with their own key in the fragment is invalid, for both proof forms', async (t) => {
  const app = await build(t, { clock: () => NOW, env: { TRUSTED_ISSUERS: VARIANTS.filter((v) => URL.canParse(v)).join(',') } })
  for (const variant of VARIANTS) {
    const unsigned = foreignCredential({ issuer: { id: variant, type: ['Profile'], name: 'Tessera Development Issuer' }, validUntil: '2030-01-01T00:00:00Z' })
    const forged = await foreignSigned(unsigned)
    const { statusCode, body } = await postVerify(app, forged)
    t.equal(statusCode, 422, `${variant}: 422`)
    t.equal(body.status, 'invalid', `${variant}: invalid`)
    t.match(check(body, 'key_binding')?.message, 'not the exact id', `${variant}: key_binding names the forgery`)

    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = await exportJWK(publicKey)
    const payload = { ...unsigned, iss: variant, jti: unsigned.id }
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', jwk }).sign(privateKey)
    const jwtResult = await postVerify(app, jwt)
    t.equal(jwtResult.body.status, 'invalid', `${variant}: the JWT with an embedded jwk is invalid`)
  }
})

t.test('a VC-JWT whose kid is a variant of one of our key URLs is invalid', async (t) => {
  const own = await ownCredential(t, { validFrom: '2026-03-31T00:00:00Z' })
  const header = JSON.parse(Buffer.from(own.jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const payload = Buffer.from(own.jwt.split('.')[1]!, 'base64url')
  for (const kid of [`${header.kid}?`, header.kid.toUpperCase().replace('HTTPS://', 'https://'), `${header.kid}/`]) {
    const jwt = await new CompactSign(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey)
    const { body } = await postVerify(own.app, jwt)
    t.equal(body.status, 'invalid', kid)
  }
})

t.test('bounded cost: too many proofs, status entries, values or levels are refused before the expensive work', async (t) => {
  const signed = await foreignSigned(foreignCredential({ validUntil: '2030-01-01T00:00:00Z' }))
  const proof = (signed.proof as Json[])[0]!
  const manyProofs = await verifyCredential({ ...signed, proof: Array.from({ length: LIMITS.proofs + 1 }, () => proof) }, { now: NOW, sources: trusting })
  t.equal(manyProofs.status, 'invalid')
  t.match(check(manyProofs, 'proof')?.message, `at most ${LIMITS.proofs}`)

  const entry = { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: 'https://registry.example.org/status/1' }
  const manyEntries = await verifyCredential({ ...signed, credentialStatus: Array.from({ length: LIMITS.statusEntries + 1 }, () => entry) }, { now: NOW, sources: trusting })
  t.equal(manyEntries.status, 'invalid')
  t.match(check(manyEntries, 'status')?.message, `at most ${LIMITS.statusEntries}`)

  let deep: Json = { name: 'bottom' }
  for (let i = 0; i < 10_000; i++) deep = { nested: deep }
  const tooDeep = await verifyCredential(foreignCredential({ credentialSubject: deep }), { now: NOW, sources: trusting })
  t.equal(tooDeep.status, 'invalid', '10,000 levels: invalid, no stack overflow')
  t.match(check(tooDeep, 'format')?.message, 'nested more than')

  const wide = await verifyCredential(foreignCredential({ evidence: Array.from({ length: LIMITS.nodes }, (_, i) => ({ id: `urn:x:${i}` })) }), { now: NOW, sources: trusting })
  t.equal(wide.status, 'invalid')
  t.match(check(wide, 'format')?.message, 'more than')
})

t.test('a verification past its time budget is indeterminate, never valid', async (t) => {
  const signed = await foreignSigned(foreignCredential({ validUntil: '2030-01-01T00:00:00Z' }))
  t.equal((await verifyCredential(signed, { now: NOW, sources: trusting })).status, 'valid', 'within budget it is valid')
  const slow: VerificationSources = { ...trusting, fetchStatusListCredential: async () => await new Promise((resolve) => setTimeout(resolve, 500)) }
  const withStatus = { ...foreignCredential({ validUntil: '2030-01-01T00:00:00Z', credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '1', statusListCredential: 'https://registry.example.org/status/1' } }) }
  const result = await verifyCredential(await foreignSigned(withStatus), { now: NOW, sources: slow }, { timeBudgetMs: 50 })
  t.equal(result.status, 'indeterminate')
  t.match(check(result, 'format')?.message, 'did not finish within 50 ms')
})

t.test('a VC-JWT without its own dates is judged by exp and nbf', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  const { validUntil: _u, validFrom: _f, ...undated } = foreignCredential()
  const token = async (claims: Json): Promise<string> =>
    await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...undated, iss: undated.issuer.id, ...claims }))).setProtectedHeader({ alg: 'ES256', jwk }).sign(privateKey)
  const seconds = (iso: string): number => Date.parse(iso) / 1000
  const expired = await verifyCredential(await token({ nbf: seconds('2020-01-01T00:00:00Z'), exp: seconds('2025-01-01T00:00:00Z') }), { now: NOW, sources: trusting })
  t.equal(expired.status, 'expired', 'exp in the past: expired')
  t.equal(expired.credential.validUntil, '2025-01-01T00:00:00Z')
  const early = await verifyCredential(await token({ nbf: seconds('2030-01-01T00:00:00Z') }), { now: NOW, sources: trusting })
  t.equal(early.status, 'not_yet_valid', 'nbf in the future: not yet valid')
  const garbled = await verifyCredential(await token({ nbf: seconds('2020-01-01T00:00:00Z'), exp: 'tomorrow' }), { now: NOW, sources: trusting })
  t.equal(garbled.status, 'invalid', 'an exp that is not a number is invalid')
  const disagreeing = await verifyCredential(await token({ validFrom: '2020-01-01T00:00:00Z', nbf: seconds('2021-01-01T00:00:00Z') }), { now: NOW, sources: trusting })
  t.equal(disagreeing.status, 'invalid', 'nbf that disagrees with validFrom stays invalid')
})

t.test('status entries: a foreign credential cannot borrow our list, and the index must be canonical', async (t) => {
  const own = await ownCredential(t, { validFrom: '2026-03-31T00:00:00Z' })
  const ourEntry = own.credential.credentialStatus
  const sources = databaseSources(own.app.sql, publicUrls(BASE_URL), { find: async (id) => id === 'https://registry.example.org/issuers/1' ? { entryId: 'test-entry', name: 'Registry' } : undefined })
  const borrowed = await foreignSigned(foreignCredential({ validUntil: '2030-01-01T00:00:00Z', credentialStatus: ourEntry }))
  const result = await verifyCredential(borrowed, { now: NOW, sources })
  t.equal(result.status, 'invalid')
  t.match(check(result, 'status')?.message, 'cannot vouch for it')

  const entry = (statusListIndex: unknown): Json => ({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex, statusListCredential: ourEntry.statusListCredential })
  for (const index of ['1e3', ' 7', '0x10', '-1', '007', '']) {
    const odd = await verifyCredential(await foreignSigned(foreignCredential({ validUntil: '2030-01-01T00:00:00Z', credentialStatus: entry(index) })), { now: NOW, sources: trusting })
    t.equal(odd.status, 'invalid', JSON.stringify(index))
    t.match(check(odd, 'status')?.message, 'base-10 integer', JSON.stringify(index))
  }
})

t.test('our own credentials during a database outage are indeterminate, never valid and never an exception', async (t) => {
  const own = await ownCredential(t, { validFrom: '2026-03-31T00:00:00Z' })
  // A real connection attempt to a port where nothing listens.
  const down = connect('postgres://postgres@127.0.0.1:1/none', { max: 1 })
  t.teardown(async () => { await down.end({ timeout: 1 }) })
  const sources = databaseSources(down, publicUrls(BASE_URL), recognisedIssuers(down))
  for (const vc of [own.credential, own.jwt]) {
    const result = await verifyCredential(vc, { now: NOW, sources })
    t.equal(result.status, 'indeterminate')
    t.equal(result.verified, false)
    t.match(check(result, 'format')?.message, 'could not be read')
  }
})
