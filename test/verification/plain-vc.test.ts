import t from 'tap'
import { noSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import type { CheckId, VerificationResult } from '../../src/capabilities/verification/result.js'
import { build } from '../helpers/build-app.js'
import { generateDidKey, signCredential, signWithPurpose, type DidKey } from '../helpers/did-key-signing.js'

/**
 * Any W3C Verifiable Credential, not only Open Badges (VCDM 2.0 §4, §7; VC
 * Data Integrity §4.3 "Verify Proof"; EdDSA Cryptosuites §3.3): a plain
 * credential signed by a did:key passes every check the standard asks for,
 * and each MUST-level failure is refused by the check that owns it.
 */

type Json = Record<string, any>
const now = new Date('2026-12-04T10:00:00Z')
const verify = async (credential: unknown): Promise<VerificationResult> => await verifyCredential(credential, { now, sources: noSources })
const check = (result: VerificationResult, id: CheckId): { result: string, message: string } | undefined => result.checks.find((c) => c.id === id)
const outcomes = (result: VerificationResult): Record<string, string> => Object.fromEntries(result.checks.map((c) => [c.id, c.result]))

const vcdm2 = (issuer: string): Json => ({
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  id: 'urn:uuid:0f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  type: ['VerifiableCredential'],
  issuer,
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2031-01-01T00:00:00Z',
  name: 'Bachelor of Science and Arts',
  description: 'Awarded on completion of a bachelor degree program.',
  credentialSubject: { id: 'did:example:ebfeb1f712ebc6f1c276e12ec21' }
})

// The contexts held offline have no @vocab: the documents say only what their contexts define.
const vcdm11 = (issuer: string): Json => ({
  '@context': ['https://www.w3.org/2018/credentials/v1'],
  id: 'urn:uuid:1f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4c',
  type: ['VerifiableCredential'],
  issuer,
  issuanceDate: '2026-01-01T00:00:00Z',
  expirationDate: '2031-01-01T00:00:00Z',
  credentialSubject: { id: 'did:example:ebfeb1f712ebc6f1c276e12ec21' }
})

let key: DidKey
t.before(async () => { key = await generateDidKey() })

for (const [name, make] of [['VCDM 2.0', vcdm2], ['VCDM 1.1', vcdm11]] as const) {
  t.test(`a plain ${name} credential signed by a did:key passes every check, and is unverified_issuer until its issuer is recognised`, async (t) => {
    const result = await verify(await signCredential(make(key.did), key))
    t.same(outcomes(result), { format: 'passed', schema: 'passed', proof: 'passed', signed_data: 'passed', key_binding: 'unknown', validity_period: 'passed', status: 'passed' }, JSON.stringify(result.checks))
    t.equal(result.status, 'unverified_issuer', 'genuine, but nothing says who holds a did:key')
    t.equal(result.verified, false)
    t.match(check(result, 'format')?.message, /not an Open Badge/)
    t.match(check(result, 'schema')?.message, /^Not applicable/)
    t.ok(result.warnings.some((w) => /Open Badges 3\.0 schema and format rules were not applicable/.test(w)), 'a warning says the Open Badges checks did not apply')
    t.same(result.credential.issuer, { id: key.did })
  })
}

t.test('a VCDM 1.1 credential past its expirationDate is expired, judged by validity_period', async (t) => {
  const result = await verify(await signCredential({ ...vcdm11(key.did), expirationDate: '2026-06-01T00:00:00Z' }, key))
  t.equal(result.status, 'expired')
  t.equal(check(result, 'validity_period')?.result, 'failed')
  t.equal(check(result, 'proof')?.result, 'passed')
})

t.test('a VCDM 2.0 credential may state no validity period at all (validFrom is optional)', async (t) => {
  const { validFrom: _, validUntil: __, ...open } = vcdm2(key.did)
  const result = await verify(await signCredential(open, key))
  t.equal(check(result, 'format')?.result, 'passed')
  t.equal(check(result, 'validity_period')?.result, 'passed')
  t.equal(result.status, 'unverified_issuer')
})

t.test('a VCDM 1.1 credential without issanceDate is refused at format (VCDM 1.1 requires it)', async (t) => {
  const { issuanceDate: _, ...undated } = vcdm11(key.did)
  const result = await verify(undated)
  t.equal(check(result, 'format')?.result, 'failed')
  t.match(check(result, 'format')?.message, /"issuanceDate" must be present/)
})

t.test('a credential naming a context this verifier does not hold is refused at format, and nothing is fetched', async (t) => {
  const credential = await signCredential(vcdm2(key.did), key)
  credential['@context'] = [...credential['@context'], 'https://contexts.example.org/degrees/v1']
  const result = await verify(credential)
  t.equal(result.status, 'invalid')
  t.equal(check(result, 'format')?.result, 'failed')
  t.match(check(result, 'format')?.message, /"https:\/\/contexts\.example\.org\/degrees\/v1", which this verifier does not hold; it never fetches contexts/)
  t.equal(check(result, 'proof')?.result, 'unknown', 'the proof is not attempted')
})

t.test('a document with an Open Badges context but no Open Badges type is still held to the Open Badges rules', async (t) => {
  const credential = { ...vcdm2(key.did), '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'] }
  const result = await verify(await signCredential(credential, key))
  t.equal(check(result, 'format')?.result, 'failed')
  t.match(check(result, 'format')?.message, /"type" must include one of "OpenBadgeCredential"/)
})

t.test('MUST-level failures of Data Integrity are refused by the proof check', async (t) => {
  const signed = await signCredential(vcdm2(key.did), key)

  t.test('a credential changed after signing (tampered): proof failed', async (t) => {
    const tampered = structuredClone(signed)
    tampered.name = 'Doctor of Medicine'
    const result = await verify(tampered)
    t.equal(result.status, 'invalid')
    t.equal(check(result, 'proof')?.result, 'failed')
    t.match(check(result, 'proof')?.message, /signature does not verify/)
  })

  t.test('a genuine signature made for "authentication", not "assertionMethod": proof failed', async (t) => {
    const result = await verify(await signWithPurpose(vcdm2(key.did), key, 'authentication'))
    t.equal(result.status, 'invalid')
    t.equal(check(result, 'proof')?.result, 'failed')
    t.match(check(result, 'proof')?.message, /proofPurpose/)
  })

  t.test('an unknown cryptosuite: the proof is not accepted (proof unknown, never valid)', async (t) => {
    const other = structuredClone(signed)
    other.proof.cryptosuite = 'eddsa-unknown-2099'
    const result = await verify(other)
    t.equal(result.verified, false)
    t.equal(result.status, 'indeterminate')
    t.equal(check(result, 'proof')?.result, 'unknown')
    t.match(check(result, 'proof')?.message, /"DataIntegrityProof\/eddsa-unknown-2099" is not supported/)
  })

  t.test('a "created" that is not an XSD dateTimeStamp, though signed: proof failed', async (t) => {
    const result = await verify(await signCredential(vcdm2(key.did), key, { created: '4 December 2026' }))
    t.equal(result.status, 'invalid')
    t.equal(check(result, 'proof')?.result, 'failed')
    t.match(check(result, 'proof')?.message, /"proof\.created" \("4 December 2026"\) must be an XSD dateTimeStamp/)
  })

  t.test('a proofValue that is not base58btc multibase: proof failed', async (t) => {
    for (const proofValue of [`x${signed.proof.proofValue.slice(1) as string}`, `z0OIl${signed.proof.proofValue.slice(5) as string}`]) {
      const bad = structuredClone(signed)
      bad.proof.proofValue = proofValue
      const result = await verify(bad)
      t.equal(result.status, 'invalid', proofValue.slice(0, 5))
      t.equal(check(result, 'proof')?.result, 'failed')
    }
  })
})

t.test('POST /credentials/verify answers a plain credential with the same result document: 422 unverified_issuer, then 200 valid once staff recognise its issuer', async (t) => {
  const { app, auth } = await build(t)
  const credential = await signCredential(vcdm2(key.did), key)
  const response = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  t.equal(response.statusCode, 422)
  const body = response.json()
  t.equal(body.status, 'unverified_issuer')
  t.same(body.checks.map((c: { id: string, result: string }) => `${c.id}:${c.result}`), ['format:passed', 'schema:passed', 'proof:passed', 'signed_data:passed', 'key_binding:unknown', 'validity_period:passed', 'status:passed'])

  const added = await app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: auth, payload: { issuerId: key.did, name: 'Example University' } })
  t.equal(added.statusCode, 201)
  const recognised = await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  t.equal(recognised.statusCode, 200)
  t.equal(recognised.json().status, 'valid')
  t.equal(recognised.json().verified, true)
  t.match(recognised.json().checks.find((c: { id: string }) => c.id === 'key_binding'), { result: 'passed', message: /Example University/ })
})
