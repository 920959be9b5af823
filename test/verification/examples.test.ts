import { readFileSync, readdirSync } from 'node:fs'
import t from 'tap'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import type { CheckId, VerificationResult, VerificationStatus } from '../../src/capabilities/verification/result.js'
import { outboundRequest } from '../../src/infrastructure/outbound/outbound.js'
import { build } from '../helpers/build-app.js'
import { standInHosts } from '../helpers/stand-in-hosts.js'

// The 1EdTech / W3C reference examples, copied into test/fixtures/ob3 (see its README).
const EXAMPLES = new URL('../fixtures/ob3/examples/', import.meta.url)
const TESTLIST_URL = 'https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/ob30/bit-string-list/testlist'

const read = (path: string): string => readFileSync(new URL(path, EXAMPLES), 'utf8')
const load = (path: string): unknown => path.endsWith('.jwt') ? read(path).trim() : JSON.parse(read(path))

/**
 * The examples' test issuers, recognised as a deployment that accepts them
 * would: entries in the registry, added by staff through the API (an origin
 * entry recognises every https issuer id and did:web under it).
 */
const REGISTRY = [
  { origin: 'https://example.com', name: 'Example Corp (1EdTech test issuer)' },
  { origin: 'https://example.edu', name: 'Example University (1EdTech test issuer)' },
  { origin: 'https://1edtech.edu', name: '1EdTech Testing' },
  { origin: 'https://state.gov', name: 'State (1EdTech test endorser)' },
  { origin: 'https://dc.1edtech.org', name: '1EdTech Wellspring portal (did:web)' }
]

/**
 * Three examples name their key or status list on https://1edtech.edu or
 * https://dc.1edtech.org inside the signed credential, so the URLs cannot be
 * rewritten: a loopback https server stands in for those two hosts (the app's
 * outbound client is sent there by buildApp's test-only outboundForTests, its
 * certificate checked for the real name) and serves what those issuers would.
 */
const WELLSPRING_DID = 'did:web:dc.1edtech.org:wellspring2022:wellspring-portal:org:da1e96e9-afcc-4eed-b9a2-2ddf7353214c'
const WELLSPRING_KEY = 'z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi'
const standIns = await standInHosts(t, ['1edtech.edu', 'dc.1edtech.org'])
// complete.json's list: it lists nothing, and says whose and where it is.
standIns.serve('https://1edtech.edu/credentials/3732/revocations', { id: 'https://1edtech.edu/credentials/3732/revocations', issuer: 'https://1edtech.edu/issuers/565049', revokedCredentials: [] })
// The Wellspring portal's DID document: did:web, its key a did:key-style multibase, so the document follows from the key id.
standIns.serve('https://dc.1edtech.org/wellspring2022/wellspring-portal/org/da1e96e9-afcc-4eed-b9a2-2ddf7353214c/did.json', {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: WELLSPRING_DID,
  verificationMethod: [{ id: `${WELLSPRING_DID}#${WELLSPRING_KEY}`, type: 'Multikey', controller: WELLSPRING_DID, publicKeyMultibase: WELLSPRING_KEY }],
  assertionMethod: [`${WELLSPRING_DID}#${WELLSPRING_KEY}`]
})
const wellspringList = 'https://dc.1edtech.org/wellspring2022/wellspring-portal/api/revocations/da1e96e9-afcc-4eed-b9a2-2ddf7353214c'
standIns.serve(wellspringList, { id: wellspringList, issuer: WELLSPRING_DID, revokedCredentials: [{ id: 'https://dc.1edtech.org/wellspring2022/wellspring-portal/credential/54418d3f-ec01-4652-800a-861c890a51a1' }] })

const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' }, outboundForTests: standIns.outboundForTests })
const entries = new Map<string, { entryId: string, name: string }>()
for (const entry of REGISTRY) {
  const added = await app.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: app.auth, payload: entry })
  if (added.statusCode !== 201) throw new Error(`registry: ${added.body}`)
  entries.set(entry.origin, { entryId: added.json().id, name: entry.name })
}

/**
 * The app's own sources (its database, its registry), without the network,
 * for every row not marked `standIns`: their keys are in the credential
 * itself. The bitstring examples' status list is on raw.githubusercontent.com:
 * its fixture copy, a signed list that verifies as it is, stands in for the fetch.
 */
const { forVerification: _network, ...own } = app.app.verifier.sources
const sources: VerificationSources = {
  ...own,
  fetchStatusListCredential: async (url) => url === TESTLIST_URL ? JSON.parse(read('status/bitstring-status-list-credential.testlist.json')) : undefined
}
const now = new Date('2026-07-01T12:00:00Z')
// The app's own sources with its network, where only the stand-in hosts resolve (rows marked `standIns`).
const withStandIns = app.app.verifier.sources
const verify = async (path: string, s = sources): Promise<VerificationResult> => await verifyCredential(load(path), { now, sources: s, dataIntegrity: app.app.verifier.dataIntegrity })

/**
 * `status`: what this verifier answers; `failed`/`unknown`: exactly the checks
 * with that result. `displayer`: what 1EdTech's Displayer conformance expects,
 * set only where this verifier cannot give it, and `why` then says why.
 */
type Expectation = { status: VerificationStatus, failed?: CheckId[], unknown?: CheckId[], why: string, displayer?: VerificationStatus, standIns?: true }

const VALID: Expectation = { status: 'valid', why: 'a genuine credential by a recognised issuer' }

// Every example and what it must yield.
const EXPECTED: Record<string, Expectation> = {
  'valid/validator/simple.json': VALID,
  'valid/validator/simple-context-alias.json': VALID,
  'valid/validator/simple-context-version.json': VALID,
  'valid/validator/simple-did-web-method.json': VALID,
  'valid/validator/simple-multiple-proofs.json': VALID,
  'valid/validator/simple_v1.json': VALID,
  'valid/validator/sd-derivedcredential.json': VALID,
  'valid/validator/endorsement-valid.json': VALID,
  'valid/testvector-eddsa-rdfc-2022/credential-signed.json': VALID,
  // eddsa-2022, the draft name of eddsa-rdfc-2022, verified by its Digital Bazaar suite with the data-integrity/v1 context it was signed under.
  'valid/validator/simple-eddsa-2022.json': VALID,
  'valid/jwt/simple-vcdm2-rs256-jwk.jwt': VALID,
  'valid/jwt/simple-vcdm2-rs256-jwk.from-svg.jwt': VALID,
  'valid/jwt/simple-vcdm11-rs256-jwk.jwt': VALID,
  'valid/validator/complete.json': { status: 'valid', standIns: true, why: 'a genuine credential by a recognised issuer, not on its 1EdTechRevocationList (https://1edtech.edu/credentials/3732/revocations, served by the stand-in)' },
  'valid/validator/simple-did-key-method.json': { status: 'indeterminate', unknown: ['key_binding'], displayer: 'valid', why: 'the did:key controller is not the issuer (urn:uuid:…) and nothing links the two; a registry entry for a urn:uuid would recognise anyone who names it' },

  'invalid/simple-err-expired.json': { status: 'expired', failed: ['validity_period'], why: 'validUntil is in the past' },
  'invalid/simple-err-issued.json': { status: 'invalid', failed: ['schema', 'validity_period'], why: 'no achievement, and validFrom is in 2040' },
  'invalid/expired-vcdm11-complete_v1.json': { status: 'invalid', failed: ['schema', 'validity_period'], unknown: ['proof', 'signed_data', 'key_binding'], standIns: true, why: 'expired and off-schema; its list (served by the stand-in) does not list it, but its key #key-1 of https://1edtech.edu/issuers/565049 is known to no one, so the stand-in answers 404 and the proof stays unchecked' },
  'invalid/revoked-bitstring-index23.json': { status: 'revoked', failed: ['status'], why: 'bit 23 of its list is set' },
  'invalid/revoked-bitstring-index23-blank-nodes.json': { status: 'revoked', failed: ['status'], why: 'bit 23 of its list is set' },
  'invalid/revoked-1edtech-revocation-list.json': { status: 'revoked', failed: ['status'], standIns: true, why: 'its 1EdTech revocation list lists it (the did:web key document and the list are served by the stand-in for https://dc.1edtech.org)' },
  'invalid/endorsement-err-schema-status-refresh.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding', 'status'], why: 'its signature is broken' },
  'invalid/simple-err-proof-value.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the proofValue was tampered with' },
  'invalid/simple-err-proof-method.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the key in the fragment is garbled' },
  'invalid/simple-err-proof-method-no-scheme.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the verification method is not a URL' },
  'invalid/simple-err-proof-method-unknown-scheme.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the verification method has an unknown scheme' },
  'invalid/simple-err-proof-method-unknown-did-method.json': { status: 'indeterminate', unknown: ['proof', 'signed_data', 'key_binding'], why: 'did:example cannot be resolved' },
  'invalid/simple-err-context.json': { status: 'invalid', failed: ['format'], unknown: ['schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status'], why: 'the VCDM context is missing' },
  'invalid/simple-err-issuer.json': { status: 'invalid', failed: ['format'], unknown: ['schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status'], why: 'there is no issuer' },
  'invalid/simple-err-type.json': { status: 'invalid', failed: ['format'], unknown: ['schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status'], why: 'it is not an Open Badges credential type' },
  'invalid/simple-err-issuer-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the issuer type is wrong (schema, safe mode)' },
  'invalid/simple-err-issuer-parentorg-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the parentOrg type is wrong' },
  'invalid/simple-err-issuer-otheridentifier-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the otherIdentifier type is wrong' },
  'invalid/simple-err-credential-subject-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the subject type is wrong' },
  'invalid/simple-err-credential-subject-identifier-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the identifier type is wrong' },
  'invalid/simple-err-credential-subject-profile-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'the source profile type is wrong' },
  'invalid/simple-err-credential-subject-result-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'a result type is wrong' },
  'invalid/simple-err-credential-subject-achievement-result-description-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'a resultDescription type is wrong' },
  'invalid/simple-err-evidence-type.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'an evidence type is wrong' },
  'invalid/simple-noproof.json': { status: 'invalid', failed: ['schema', 'proof'], unknown: ['signed_data', 'key_binding'], why: 'it has no proof' },
  'invalid/simple-jwt-no-kid-no-jwk.jwt': { status: 'invalid', failed: ['format', 'proof'], unknown: ['schema', 'signed_data', 'key_binding', 'validity_period', 'status'], why: 'no key is named and the context is a pre-release one' },
  'derived/tampered-payload-vcdm2-rs256.jwt': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the payload was changed after signing' },
  'derived/tampered-testvector-eddsa-rdfc-2022.json': { status: 'invalid', failed: ['proof'], unknown: ['signed_data', 'key_binding'], why: 'the achievement name was changed after signing' }
}

t.test('every example file has an expected outcome in this table', async (t) => {
  const onDisk = ['valid/validator/', 'valid/jwt/', 'invalid/', 'derived/'].flatMap((dir) => readdirSync(new URL(dir, EXAMPLES)).map((f) => dir + f))
  t.same(onDisk.filter((f) => EXPECTED[f] === undefined), [], 'no example is left unchecked')
})

for (const [path, expected] of Object.entries(EXPECTED)) {
  t.test(`${path} is ${expected.status} because ${expected.why}`, async (t) => {
    const result = await verify(path, expected.standIns === true ? withStandIns : sources)
    t.equal(result.status, expected.status)
    t.equal(result.verified, expected.status === 'valid')
    const ids = (outcome: string): string[] => result.checks.filter((c) => c.result === outcome).map((c) => c.id).sort()
    t.same(ids('failed'), [...(expected.failed ?? [])].sort(), 'failed checks')
    t.same(ids('unknown'), [...(expected.unknown ?? [])].sort(), 'unknown checks')
    t.same(result.checks.map((c) => c.id), ['format', 'schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status'], 'every check is reported, in order')
    if (expected.status === 'valid') {
      t.same(result.errors, [])
      t.notOk('notice' in result, 'a valid credential has no notice')
      t.same(result.recognisedIssuer, entries.get(new URL(result.credential.issuer?.id ?? '').origin), 'the registry entry that recognised the issuer is named')
    } else {
      t.type(result.notice, 'string')
      t.ok(result.errors.length > 0, 'errors say what went wrong')
    }
  })
}

t.test('1EdTech Displayer behaviour: valid, expired and revoked examples answer so; the exceptions are listed with their reason', async (t) => {
  const answers = (status: VerificationStatus): string[] => Object.entries(EXPECTED).filter(([, e]) => e.status === status).map(([path]) => path)
  t.same(answers('expired'), ['invalid/simple-err-expired.json'])
  t.same(answers('revoked'), ['invalid/revoked-bitstring-index23.json', 'invalid/revoked-bitstring-index23-blank-nodes.json', 'invalid/revoked-1edtech-revocation-list.json'])
  t.equal(answers('valid').length, 14, 'fourteen of the fifteen valid examples are valid')
  t.same(Object.entries(EXPECTED).filter(([, e]) => e.displayer !== undefined).map(([path, e]) => `${path}: ${e.displayer ?? ''}`), [
    'valid/validator/simple-did-key-method.json: valid'
  ], 'where this verifier answers otherwise than the Displayer would (each says why), it is never valid where the spec says otherwise')
})

t.test('the 1EdTech Revocation List examples were answered by the stand-in hosts, over TLS checked for their names', async (t) => {
  standIns.requested.length = 0
  const revoked = await verify('invalid/revoked-1edtech-revocation-list.json', withStandIns)
  t.equal(revoked.revoked, true)
  t.match(revoked.checks.find((c) => c.id === 'key_binding')?.message, '1EdTech Wellspring portal (did:web)')
  const valid = await verify('valid/validator/complete.json', withStandIns)
  t.equal(valid.status, 'valid')
  for (const url of ['https://dc.1edtech.org/wellspring2022/wellspring-portal/org/da1e96e9-afcc-4eed-b9a2-2ddf7353214c/did.json', wellspringList, 'https://1edtech.edu/credentials/3732/revocations']) {
    t.ok(standIns.requested.includes(url), `${url} came over the network`)
  }
  // The hook sends a name to loopback only under the development switch; the address policy still judges what it resolves to.
  const url = new URL('https://1edtech.edu/credentials/3732/revocations')
  const request = { url, method: 'GET' as const, headers: {}, timeoutMs: 2000, maxBytes: 10000, tooLarge: 'refuse' as const, forTests: standIns.outboundForTests }
  await t.rejects(outboundRequest({ ...request, allowLoopback: false }), /refused: private-address/, 'without OUTBOUND_ALLOW_LOOPBACK the stand-in is a refused loopback address')
  t.equal((await outboundRequest({ ...request, allowLoopback: true })).status, 200)
  await t.rejects(outboundRequest({ ...request, allowLoopback: true, forTests: { ...standIns.outboundForTests, ca: '' } }), /self-signed|certificate/, 'the certificate is checked: untrusted, it is refused')
})

t.test('an expired but genuine credential is expired, not invalid, and its proof passes', async (t) => {
  const result = await verify('invalid/simple-err-expired.json')
  t.equal(result.status, 'expired')
  t.equal(result.expired, true)
  t.equal(result.revoked, false)
  t.equal(result.checks.find((c) => c.id === 'proof')?.result, 'passed')
  t.equal(result.notice, 'This Teamwork badge expired on 1 January 2010.')
})

t.test('a revoked credential names its issuer in the notice and sets revoked', async (t) => {
  const result = await verify('invalid/revoked-bitstring-index23.json')
  t.equal(result.revoked, true)
  t.equal(result.expired, false)
  t.match(result.notice, /^This .+ was revoked by 1EdTech Testing\.$/)
})

t.test('a revocation entry whose list cannot be retrieved is indeterminate, never valid', async (t) => {
  const result = await verify('invalid/revoked-bitstring-index23.json', noSources)
  t.equal(result.status, 'indeterminate')
  t.equal(result.revoked, false)
  t.match(result.checks.find((c) => c.id === 'status')?.message, `status list at ${TESTLIST_URL} could not be retrieved`)
})

t.test('a status list credential that does not verify is not trusted as "not revoked"', async (t) => {
  const list = JSON.parse(read('status/bitstring-status-list-credential.testlist.json')) as { credentialSubject: { encodedList: string } }
  // A forged all-zero list: the proof no longer covers the encodedList.
  list.credentialSubject.encodedList = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA'
  const result = await verify('invalid/revoked-bitstring-index23.json', { ...noSources, fetchStatusListCredential: async () => list })
  t.equal(result.status, 'indeterminate')
  t.match(result.checks.find((c) => c.id === 'status')?.message, 'does not carry a proof by its issuer that verifies')
})

t.test('several proofs: one verifying supported proof is enough, and the unknown one is a warning', async (t) => {
  const result = await verify('valid/validator/simple-multiple-proofs.json')
  t.equal(result.status, 'valid')
  t.match(result.warnings.join(' '), '"SomeProofType" is not supported')
})

t.test('a VCDM 1.1 credential is schema-checked in translation, with a warning', async (t) => {
  const result = await verify('valid/validator/simple_v1.json')
  t.equal(result.status, 'valid')
  t.match(result.warnings.join(' '), 'VCDM 1.1')
  t.equal(result.credential.validFrom, '2010-01-01T00:00:00Z', 'issuanceDate is reported as validFrom')
})

t.test('the summary names the issuer and the achievement', async (t) => {
  const result = await verify('valid/validator/simple.json')
  t.same(result.credential.issuer, { id: 'https://example.com/issuers/876543', name: 'Example Corp' })
  t.equal(result.credential.achievement?.name, 'Teamwork')
  t.equal(result.checkedAt, now.toISOString())
})

t.test('a foreign issuer whose key is only self-asserted is unverified_issuer unless the registry recognises it', async (t) => {
  const unrecognised = { ...sources, recognisedIssuer: async () => undefined }
  for (const path of ['valid/validator/simple.json', 'valid/jwt/simple-vcdm2-rs256-jwk.jwt', 'valid/testvector-eddsa-rdfc-2022/credential-signed.json']) {
    const result = await verify(path, unrecognised)
    t.equal(result.status, 'unverified_issuer', path)
    t.equal(result.verified, false, `${path}: never verified`)
    t.notOk('recognisedIssuer' in result, `${path}: no entry named`)
    const binding = result.checks.find((c) => c.id === 'key_binding')
    t.equal(binding?.result, 'unknown', `${path}: the binding is not established`)
    t.equal(binding?.reason, 'self_asserted')
    t.match(result.notice, 'who issued it cannot be confirmed')
  }
  const recognised = await verify('valid/validator/simple.json')
  t.equal(recognised.status, 'valid', 'in the registry, the same credential is valid')
  t.match(recognised.checks.find((c) => c.id === 'key_binding')?.message, `recognised by this deployment as "Example Corp (1EdTech test issuer)" (registry entry ${entries.get('https://example.com')?.entryId ?? ''})`)
})

t.test('a revoked credential of an unrecognised issuer is still reported revoked', async (t) => {
  const result = await verify('invalid/revoked-bitstring-index23.json', { ...sources, recognisedIssuer: async () => undefined })
  t.equal(result.status, 'revoked')
})
