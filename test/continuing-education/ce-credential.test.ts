import { generateKeyPairSync, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import Fastify from 'fastify'
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { bakePng, extractFromPng } from '../../src/capabilities/bake/png.js'
import { readCeCredential, type ApprovedProvider, type CeCredentialEvidence } from '../../src/capabilities/continuing-education/ce-credential.js'
import { emptyBitstring, encodeList, withBitSet } from '../../src/capabilities/status-lists/bitstring.js'
import { svgToPng } from '../../src/infrastructure/web/images.js'
import { AppError } from '../../src/kernel/errors.js'
import { BASE_URL, build } from '../helpers/build-app.js'
import { ceBadge as makeCeBadge } from '../helpers/continuing-education.js'
import { generateDidKey, signCredential, type DidKey } from '../helpers/did-key-signing.js'

/**
 * A verifiable continuing-education credential as evidence: an Open Badges
 * 3.0 credential from a CE provider (here did:key issuers made in the test,
 * signed for real), read from pasted JSON, a baked PNG or a VC-JWT, verified
 * by the service's own verifier with the achievement's approved providers
 * counted as recognised. Points are creditsEarned, the date awardedDate;
 * revoked, forged, expired-at-completion and unrecognised credentials are
 * refused with the verifier's words.
 */

type Json = Record<string, any>
const NOW = new Date('2026-12-04T12:00:00Z')

const app = await build(t, { clock: () => NOW, env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
// readCeCredential is called directly, not through inject: wait for the app's Data Integrity thread to be ready.
await app.app.ready()

const ceBadge = (issuer: string, extra: Json = {}, subject?: Json): Json => makeCeBadge(issuer, { extra, ...(subject === undefined ? {} : { subject }) })

const deps = (approvedProviders: readonly ApprovedProvider[] = []): Parameters<typeof readCeCredential>[1] =>
  ({ verifier: app.app.verifier, now: NOW, sql: app.sql, publicBaseUrl: BASE_URL, allowLoopback: true, approvedProviders })

/** The refusal readCeCredential threw (failing the test when it answered instead). */
async function refusal (t: Test, submitted: Parameters<typeof readCeCredential>[0], approved: readonly ApprovedProvider[] = []): Promise<AppError> {
  try {
    const answer = await readCeCredential(submitted, deps(approved))
    t.fail(`expected a refusal, got ${JSON.stringify(answer)}`)
  } catch (error) {
    if (error instanceof AppError) {
      t.equal(error.code, 'ce_credential_refused')
      t.equal(error.statusCode, 422)
      return error
    }
    throw error
  }
  throw new Error('unreachable')
}
const verificationOf = (error: AppError): { status: string, checks: Array<{ id: string, result: string, message: string }> } => error.extra.verification as any
const checkMessage = (error: AppError, id: string): string => verificationOf(error).checks.find((c) => c.id === id)?.message ?? ''

const verifyApi = async (credential: unknown): Promise<Json> =>
  (await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })).json()

t.test('a valid CE credential from an approved provider counts as approved, with its points, date and title from the credential (pasted JSON, baked PNG, VC-JWT)', async (t) => {
  const key = await generateDidKey()
  const signed = await signCredential(ceBadge(key.did), key)
  t.equal((await verifyApi(signed)).status, 'unverified_issuer', 'the public verifier does not know the provider: only the approval recognises it below')
  const approved = [{ providerId: key.did, name: 'Midwest CE (AAMA-approved)' }]

  const expected: Omit<CeCredentialEvidence, 'credential' | 'verification'> = {
    issuerId: key.did,
    providerName: 'Midwest CE (AAMA-approved)',
    title: 'Infection Control Update 2026',
    completedOn: '2026-03-14',
    points: 2.5,
    category: 'approved'
  }
  const pasted = await readCeCredential({ text: `  ${JSON.stringify(signed, null, 2)}\n` }, deps(approved))
  t.match(pasted, expected)
  t.same(pasted.credential, signed, 'the credential as read')
  t.same(pasted.verification, { status: 'valid', checkedAt: NOW.toISOString(), recognisedBy: 'Midwest CE (AAMA-approved)' })

  const image = bakePng(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#246"/></svg>'), JSON.stringify(signed))
  t.ok(extractFromPng(image) !== undefined, 'the PNG carries the credential')
  const baked = await readCeCredential({ image }, deps(approved))
  t.match(baked, expected, 'the same from a baked PNG')
  t.same(baked.credential, signed)

  // The same credential as a VC-JWT by a did:key (the key named by "kid").
  const jwtKey = generateKeyPairSync('ed25519')
  const multibase = (await Ed25519Multikey.fromJwk({ jwk: jwtKey.publicKey.export({ format: 'jwk' }) })).publicKeyMultibase as string
  const did = `did:key:${multibase}`
  const unsigned = ceBadge(did)
  const jwt = await new SignJWT({ ...unsigned, iss: did, jti: unsigned.id as string, nbf: Date.parse(unsigned.validFrom as string) / 1000 })
    .setProtectedHeader({ alg: 'EdDSA', kid: `${did}#${multibase}`, typ: 'vc+jwt' })
    .sign(jwtKey.privateKey)
  const fromJwt = await readCeCredential({ text: jwt }, deps([{ providerId: did, name: 'Midwest CE (JWT)' }]))
  t.match(fromJwt, { ...expected, issuerId: did, providerName: 'Midwest CE (JWT)' }, 'the same from a VC-JWT')
  t.equal(fromJwt.credential, jwt, 'the compact JWS as read')
  t.equal(fromJwt.verification.status, 'valid')
})

t.test('an issuer that is recognised in the registry but not an approved provider counts as other, named as the credential names it', async (t) => {
  const key = await generateDidKey()
  const added = await app.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: app.auth, payload: { issuerId: key.did, name: 'Midwest CE (registry)' } })
  t.equal(added.statusCode, 201)
  const signed = await signCredential(ceBadge(key.did, {}, { creditsEarned: 1 }), key)
  // Ids compare case-sensitively: the same DID spelt in capitals is not this provider.
  const evidence = await readCeCredential({ text: JSON.stringify(signed) }, deps([{ providerId: key.did.toUpperCase(), name: 'Someone else' }]))
  t.match(evidence, { issuerId: key.did, providerName: 'Midwest Allied Health CE Institute', category: 'other', points: 1, completedOn: '2026-03-14' })
  t.same(evidence.verification, { status: 'valid', checkedAt: NOW.toISOString(), recognisedBy: 'Midwest CE (registry)' })
})

t.test('a foreign self-asserted issuer, neither approved nor recognised, is refused as unverified_issuer in the verifier\'s words', async (t) => {
  const key = await generateDidKey()
  const signed = await signCredential(ceBadge(key.did), key)
  const error = await refusal(t, { text: JSON.stringify(signed) }, [{ providerId: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', name: 'Another provider' }])
  t.equal(verificationOf(error).status, 'unverified_issuer')
  t.match(error.message, /^Who issued this continuing-education credential cannot be confirmed/)
  t.match(error.message, 'nothing ties the signing key to Midwest Allied Health CE Institute', 'the verifier\'s notice')
  t.match(checkMessage(error, 'key_binding'), 'registry does not recognise the issuer')
  t.ok(error.message.includes(checkMessage(error, 'key_binding')), 'and its key_binding message')
})

t.test('a forged CE credential (points raised after signing) is refused as invalid, even from an approved provider', async (t) => {
  const key = await generateDidKey()
  const signed = await signCredential(ceBadge(key.did), key)
  signed.credentialSubject.creditsEarned = 25
  const error = await refusal(t, { text: JSON.stringify(signed) }, [{ providerId: key.did, name: 'Midwest CE' }])
  t.equal(verificationOf(error).status, 'invalid')
  t.match(error.message, /^This continuing-education credential did not pass verification/)
  const proof = verificationOf(error).checks.find((c) => c.id === 'proof')
  t.equal(proof?.result, 'failed')
  t.ok(error.message.toLowerCase().includes((proof?.message ?? '?').toLowerCase().replace(/\.$/, '')), 'the proof check\'s words')
})

t.test('a CE credential revoked on its provider\'s Bitstring status list is refused as revoked; one whose bit is clear counts', async (t) => {
  const key = await generateDidKey()
  const provider = Fastify()
  const served = new Map<string, string>()
  provider.get('/*', async (request, reply) => {
    const body = served.get(request.url)
    return body === undefined ? await reply.code(404).send('not here') : await reply.type('application/json').send(body)
  })
  await provider.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await provider.close() })
  const list = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}/status/1`
  served.set('/status/1', JSON.stringify(await signCredential({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: list,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: key.did,
    validFrom: '2026-01-01T00:00:00Z',
    credentialSubject: { id: `${list}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeList(withBitSet(emptyBitstring(131_072), 5)) }
  }, key)))
  const entry = (index: number): Json => ({ credentialStatus: { id: `${list}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: list } })
  const approved = [{ providerId: key.did, name: 'Midwest CE' }]

  const kept = await readCeCredential({ text: JSON.stringify(await signCredential(ceBadge(key.did, entry(7)), key)) }, deps(approved))
  t.equal(kept.category, 'approved', 'index 7 is clear')
  const error = await refusal(t, { text: JSON.stringify(await signCredential(ceBadge(key.did, entry(5)), key)) }, approved)
  t.equal(verificationOf(error).status, 'revoked')
  t.match(error.message, /^This continuing-education credential has been revoked by its issuer/)
  t.match(error.message, 'was revoked by Midwest Allied Health CE Institute', 'the verifier\'s notice')
  t.equal(verificationOf(error).checks.find((c) => c.id === 'status')?.result, 'failed')
})

t.test('expired: refused when the activity was completed after validUntil, counted when completed while the credential held', async (t) => {
  const key = await generateDidKey()
  const approved = [{ providerId: key.did, name: 'Midwest CE' }]
  const late = await signCredential(ceBadge(key.did, { validFrom: '2025-01-01T00:00:00Z', validUntil: '2025-12-31T23:59:59Z', awardedDate: '2026-02-01T10:00:00Z' }), key)
  const error = await refusal(t, { text: JSON.stringify(late) }, approved)
  t.equal(verificationOf(error).status, 'expired')
  t.match(error.message, /^The activity was completed after this continuing-education credential had expired/)
  t.match(checkMessage(error, 'validity_period'), 'expired at 2025-12-31T23:59:59Z (checked as of 2026-02-01T10:00:00.000Z)', 'judged at the completion date')
  t.ok(error.message.includes(checkMessage(error, 'validity_period')), 'in the verifier\'s words')

  const inTime = await signCredential(ceBadge(key.did, { validFrom: '2025-01-01T00:00:00Z', validUntil: '2026-06-30T00:00:00Z' }), key)
  const evidence = await readCeCredential({ text: JSON.stringify(inTime) }, deps(approved))
  t.match(evidence, { category: 'approved', completedOn: '2026-03-14', points: 2.5 })
  t.same(evidence.verification, { status: 'expired', checkedAt: NOW.toISOString(), recognisedBy: 'Midwest CE' }, 'expired now, which the record keeps')

  // Expired now and never recognised: valid at completion is not enough.
  const stranger = await generateDidKey()
  const unknownIssuer = await refusal(t, { text: JSON.stringify(await signCredential(ceBadge(stranger.did, { validFrom: '2025-01-01T00:00:00Z', validUntil: '2026-06-30T00:00:00Z' }), stranger)) })
  t.equal(verificationOf(unknownIssuer).status, 'unverified_issuer')
})

t.test('points come only from creditsEarned: absent, not a number, zero or over 100 is refused', async (t) => {
  const key = await generateDidKey()
  const approved = [{ providerId: key.did, name: 'Midwest CE' }]
  const none = await refusal(t, { text: JSON.stringify(await signCredential(ceBadge(key.did, {}, { result: [{ type: ['Result'], value: '12' }] }), key)) }, approved)
  t.match(none.message, 'does not state "creditsEarned"')
  t.match(none.message, 'must be an Open Badges 3.0 credential with creditsEarned')
  for (const [credits, words] of [['2', 'must be a number; it is "2".'], [0, 'must be more than 0 and at most 100; it is 0.'], [150, 'must be more than 0 and at most 100; it is 150.']] as const) {
    const error = await refusal(t, { text: JSON.stringify(ceBadge(key.did, {}, { creditsEarned: credits })) }, approved)
    t.match(error.message, `"creditsEarned" ${words}`, `creditsEarned ${JSON.stringify(credits)}`)
  }
})

t.test('only an Open Badges 3.0 credential can be a CE credential: a plain VC, an OB 2.0 assertion, an empty or unreadable submission are refused', async (t) => {
  const key: DidKey = await generateDidKey()
  const plain = await signCredential({ '@context': ['https://www.w3.org/ns/credentials/v2'], id: `urn:uuid:${randomUUID()}`, type: ['VerifiableCredential'], issuer: key.did, validFrom: '2026-03-01T00:00:00Z', credentialSubject: { id: 'did:example:holder' } }, key)
  t.match((await refusal(t, { text: JSON.stringify(plain) }, [{ providerId: key.did, name: 'Midwest CE' }])).message, 'must be an Open Badges 3.0 credential (OpenBadgeCredential) that states "creditsEarned"')
  const ob2 = { '@context': 'https://w3id.org/openbadges/v2', type: 'Assertion', id: 'https://ce.example/assertions/1', recipient: { type: 'email', hashed: false, identity: 'a@example.org' }, badge: 'https://ce.example/badges/1', verification: { type: 'hosted' }, issuedOn: '2026-03-14T00:00:00Z' }
  t.match((await refusal(t, { text: JSON.stringify(ob2) })).message, 'this is an Open Badges 2.0 assertion')
  t.match((await refusal(t, { text: '{"not json' })).message, 'could not be read: The text starts like JSON but is not valid JSON.')
  t.match((await refusal(t, { image: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') })).message, 'could not be read: The image has no credential baked in it.')
  t.match((await refusal(t, { text: '   ' })).message, 'Paste the continuing-education credential')
})
