import { readFileSync } from 'node:fs'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import t from 'tap'
import { staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import { emptyBitstring, withBitSet } from '../../src/capabilities/status-lists/bitstring.js'
import { ownershipClassifier } from '../../src/capabilities/verification/ownership.js'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import type { VerificationResult } from '../../src/capabilities/verification/result.js'

// Published TEST keys (1EdTech material): anyone can sign with them, which is the point here.
const testKeys = JSON.parse(readFileSync(new URL('../fixtures/ob3/keys/test-keys.json', import.meta.url), 'utf8')) as
  { ed25519_multikey: Array<{ publicKeyMultibase: string, secretKeyMultibase: string }> }
const testKey = testKeys.ed25519_multikey[0]!
const otherKey = testKeys.ed25519_multikey[1]!

const OWN_ISSUER = 'https://badges.test.example/issuers/aama'
const OWN_LIST = 'https://badges.test.example/status-lists/list1'
const now = new Date('2026-07-01T12:00:00Z')

function credential (issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:6a3a0c4e-9a55-4a40-8d1e-1d3a1e3c2b10',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'American Association of Medical Assistants' },
    validFrom: '2024-04-01T00:00:00Z',
    validUntil: '2026-03-31T00:00:00Z',
    name: 'CMA (AAMA)',
    credentialSubject: {
      type: ['AchievementSubject'],
      achievement: {
        id: 'https://badges.test.example/achievements/cma',
        type: ['Achievement'],
        achievementType: 'Certification',
        name: 'CMA (AAMA)',
        description: 'Certified Medical Assistant.',
        criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam.' }
      }
    },
    ...extra
  }
}

async function sign (unsigned: Record<string, unknown>, key: { publicKeyMultibase: string, secretKeyMultibase: string }, verificationMethod: string, controller: string): Promise<Record<string, unknown>> {
  const keyPair = await Ed25519Multikey.from({ id: verificationMethod, controller, type: 'Multikey', ...key })
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: new Date('2024-04-01T00:00:00Z') })
  return await vc.issue({ credential: structuredClone(unsigned), suite, documentLoader: staticDocumentLoader })
}

const signOwn = async (unsigned: Record<string, unknown>, key = testKey): Promise<Record<string, unknown>> =>
  await sign(unsigned, key, `${OWN_ISSUER}#${key.publicKeyMultibase}`, OWN_ISSUER)

function ownSources (keyStatus: 'active' | 'retired' | 'compromised' | undefined, list?: { purpose: string, bits: Uint8Array }): VerificationSources {
  return {
    ...noSources,
    ownership: ownershipClassifier('https://badges.test.example'),
    findOwnEd25519Key: async (issuerId, multibase) => issuerId === OWN_ISSUER && multibase === testKey.publicKeyMultibase && keyStatus !== undefined
      ? { id: 'key-2024', status: keyStatus }
      : undefined,
    findOwnStatusList: async (url) => url === OWN_LIST && list !== undefined ? { issuerId: OWN_ISSUER, purpose: list.purpose, size: list.bits.length * 8, bits: list.bits } : undefined
  }
}

const check = (result: VerificationResult, id: string): string | undefined => result.checks.find((c) => c.id === id)?.result
const at = new Date('2025-06-01T00:00:00Z')

t.test('own issuer: a credential signed with a published key verifies', async (t) => {
  const result = await verifyCredential(await signOwn(credential(OWN_ISSUER)), { now, sources: ownSources('active') }, { at })
  t.equal(result.status, 'valid')
  t.equal(check(result, 'key_binding'), 'passed')
})

t.test('own issuer: a genuine signature by an unpublished key is invalid (key_binding failed)', async (t) => {
  const forged = await signOwn(credential(OWN_ISSUER), otherKey)
  const result = await verifyCredential(forged, { now, sources: ownSources('active') }, { at })
  t.equal(check(result, 'proof'), 'passed', 'the signature itself is fine')
  t.equal(check(result, 'key_binding'), 'failed')
  t.equal(result.status, 'invalid')
  t.match(result.notice, /^This badge could not be verified: the key "z6Mk\w+" is not a key published for the issuer/)
})

t.test('own issuer: a key reported compromised no longer verifies; a retired one still does', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER))
  t.equal((await verifyCredential(signed, { now, sources: ownSources('compromised') }, { at })).status, 'invalid')
  t.equal((await verifyCredential(signed, { now, sources: ownSources('retired') }, { at })).status, 'valid')
})

t.test('a key controlled by someone other than a foreign issuer is never valid: nothing offline links them', async (t) => {
  const signed = await sign(credential('https://issuer.example/1'), testKey, `https://other.example/1#${testKey.publicKeyMultibase}`, 'https://other.example/1')
  const result = await verifyCredential(signed, { now, sources: noSources }, { at })
  t.equal(result.status, 'indeterminate')
  t.equal(check(result, 'key_binding'), 'unknown')
})

t.test('a bare did:key verification method is resolved from the identifier when the DID is the issuer', async (t) => {
  const did = `did:key:${testKey.publicKeyMultibase}`
  const signed = await sign(credential(did), testKey, did, did)
  const result = await verifyCredential(signed, { now, sources: noSources }, { at })
  t.equal(result.status, 'unverified_issuer', 'a did:key is its own issuer, but nothing says who holds it')
  t.equal(result.checks.find((c) => c.id === 'proof')?.result, 'passed')
  const trusted = await verifyCredential(signed, { now, sources: { ...noSources, recognisedIssuer: async (id) => id === did ? { entryId: 'test-entry', name: 'Test issuer' } : undefined } }, { at })
  t.equal(trusted.status, 'valid', 'a deployment that trusts the DID accepts it')
})

t.test('the validity period is judged at options.at; expiry and not-yet-valid notices use the achievement', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER))
  const deps = { now, sources: ownSources('active') }
  const expired = await verifyCredential(signed, deps)
  t.equal(expired.status, 'expired', 'validUntil 2026-03-31 is before now')
  t.equal(expired.notice, 'This CMA (AAMA) certification expired on 31 March 2026.')
  t.equal((await verifyCredential(signed, deps, { at })).status, 'valid', 'it was valid in June 2025')
  const early = await verifyCredential(signed, deps, { at: new Date('2024-01-01T00:00:00Z') })
  t.equal(early.status, 'not_yet_valid')
  t.equal(early.notice, 'This CMA (AAMA) certification is not valid until 1 April 2024.')
})

t.test('single-value proof and type forms are accepted for the schema without touching what was signed', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER))
  const compact = { ...signed, proof: (signed.proof as unknown[])[0] ?? signed.proof }
  const result = await verifyCredential(compact, { now, sources: ownSources('active') }, { at })
  t.equal(check(result, 'schema'), 'passed')
  t.equal(result.status, 'valid')
  t.notOk(Array.isArray(compact.proof), 'the input was not mutated')
})

const statusEntry = (purpose: string, index: number): Record<string, unknown> => ({
  credentialStatus: { id: `${OWN_LIST}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: purpose, statusListIndex: String(index), statusListCredential: OWN_LIST }
})

t.test('revocation is judged as of now from the own list bits, even when options.at is in the past', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER, statusEntry('revocation', 42)))
  const bits = withBitSet(emptyBitstring(131_072), 42)
  const result = await verifyCredential(signed, { now, sources: ownSources('active', { purpose: 'revocation', bits }) }, { at })
  t.equal(result.status, 'revoked')
  t.equal(result.revoked, true)
  t.equal(result.notice, 'This CMA (AAMA) certification was revoked by American Association of Medical Assistants.')
  const clear = await verifyCredential(signed, { now, sources: ownSources('active', { purpose: 'revocation', bits: emptyBitstring(131_072) }) }, { at })
  t.equal(clear.status, 'valid')
})

t.test('a badge can be both expired and revoked; revoked is the status', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER, statusEntry('revocation', 7)))
  const result = await verifyCredential(signed, { now, sources: ownSources('active', { purpose: 'revocation', bits: withBitSet(emptyBitstring(131_072), 7) }) })
  t.equal(result.status, 'revoked')
  t.equal(result.expired, true)
  t.equal(result.revoked, true)
})

t.test('a suspended credential fails closed: invalid, not revoked, with a notice that says suspended', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER, statusEntry('suspension', 3)))
  const result = await verifyCredential(signed, { now, sources: ownSources('active', { purpose: 'suspension', bits: withBitSet(emptyBitstring(131_072), 3) }) }, { at })
  t.equal(result.status, 'invalid')
  t.equal(result.revoked, false)
  t.equal(check(result, 'status'), 'failed')
  t.equal(result.notice, 'This CMA (AAMA) certification is currently suspended by American Association of Medical Assistants.')
})

t.test('an entry whose purpose does not match its list fails the status check', async (t) => {
  const signed = await signOwn(credential(OWN_ISSUER, statusEntry('revocation', 3)))
  const result = await verifyCredential(signed, { now, sources: ownSources('active', { purpose: 'suspension', bits: emptyBitstring(131_072) }) }, { at })
  t.equal(check(result, 'status'), 'failed')
  t.equal(result.status, 'invalid')
})

t.test('input that is not a credential at all is invalid on format, and nothing else is claimed', async (t) => {
  for (const input of [null, 42, [], 'not a jwt']) {
    const result = await verifyCredential(input, { now, sources: noSources })
    t.equal(result.status, 'invalid')
    t.equal(check(result, 'format'), 'failed')
    t.same(result.checks.filter((c) => c.id !== 'format').map((c) => c.result), ['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown'])
  }
})
