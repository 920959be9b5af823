import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose'
import t from 'tap'
import { noSources, type VerificationSources } from '../../src/capabilities/verification/sources.js'
import { verifyCredential } from '../../src/capabilities/verification/verify-credential.js'
import type { VerificationResult } from '../../src/capabilities/verification/result.js'

const EXAMPLES = new URL('../fixtures/ob3/examples/', import.meta.url)
const sampleJwt = readFileSync(new URL('valid/jwt/simple-vcdm2-rs256-jwk.jwt', EXAMPLES), 'utf8').trim()
const samplePayload = JSON.parse(Buffer.from(sampleJwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
const now = new Date('2026-07-01T12:00:00Z')

/** A deployment that trusts every foreign issuer's self-asserted key (TRUSTED_ISSUERS). */
const trusting: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'test-entry', name: id }) }
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const check = (result: VerificationResult, id: string): string | undefined => result.checks.find((c) => c.id === id)?.result
const verify = async (input: unknown, sources: VerificationSources = noSources, at?: Date): Promise<VerificationResult> =>
  await verifyCredential(input, { now, sources }, at === undefined ? {} : { at })

/** Signs with a fresh ES256 key and puts its public half in the header, as the 1EdTech samples do. */
async function embedded (payload: Record<string, unknown>): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', jwk }).sign(privateKey)
}

async function sign (payload: Record<string, unknown>, header: Record<string, unknown>, alg: 'ES256' | 'RS256' | 'EdDSA' = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, ...header })
    .sign(privateKey)
  return { jwt, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) }
}

t.test('an unsigned token (alg "none") is invalid', async (t) => {
  const result = await verify(`${b64({ alg: 'none' })}.${b64(samplePayload)}.`)
  t.equal(result.status, 'invalid')
  t.equal(check(result, 'proof'), 'failed')
  t.match(result.errors.map((e) => typeof e === 'string' ? e : e.message).join(' '), '"none" is not accepted')
})

t.test('an HMAC token (HS256) is invalid even when it carries a key', async (t) => {
  const header = { alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }
  const result = await verify(`${b64(header)}.${b64(samplePayload)}.${Buffer.from('sig').toString('base64url')}`)
  t.equal(result.status, 'invalid')
  t.equal(check(result, 'proof'), 'failed')
})

t.test('a token whose header jwk holds a private key is invalid', async (t) => {
  const first = await sign(samplePayload, {})
  const { jwt } = await sign(samplePayload, { jwk: first.privateJwk })
  const result = await verify(jwt)
  t.equal(result.status, 'invalid')
  t.match(result.checks.find((c) => c.id === 'proof')?.message, 'private key material')
})

t.test('an algorithm that does not fit the key type is refused (key confusion)', async (t) => {
  const rsa = (JSON.parse(Buffer.from(sampleJwt.split('.')[0]!, 'base64url').toString('utf8')) as { jwk: JWK }).jwk
  const header = { alg: 'ES256', jwk: rsa }
  const result = await verify(`${b64(header)}.${b64(samplePayload)}.${sampleJwt.split('.')[2]!}`)
  t.equal(result.status, 'invalid')
  t.match(result.checks.find((c) => c.id === 'proof')?.message, 'does not match the RSA key')
})

t.test('a freshly signed ES256 token with an embedded public key is unverified_issuer, and valid once the issuer is trusted', async (t) => {
  const jwt = await embedded(samplePayload)
  const result = await verify(jwt)
  t.equal(result.status, 'unverified_issuer')
  t.equal(check(result, 'proof'), 'passed')
  t.match(result.checks.find((c) => c.id === 'key_binding')?.message, '"jwk" header')
  t.equal((await verify(jwt, trusting)).status, 'valid')
})

t.test('an EnvelopedVerifiableCredential is unwrapped and verified like the bare token', async (t) => {
  const envelope = { '@context': 'https://www.w3.org/ns/credentials/v2', type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${sampleJwt}` }
  const result = await verify(envelope, trusting)
  t.equal(result.status, 'valid')
  t.equal(result.credential.id, 'http://example.com/credentials/3527')
})

t.test('"iss" that is not the issuer id breaks the key binding', async (t) => {
  const result = await verify(await embedded({ ...samplePayload, iss: 'https://elsewhere.example/issuer' }))
  t.equal(result.status, 'invalid')
  t.equal(check(result, 'proof'), 'passed')
  t.equal(check(result, 'key_binding'), 'failed')
  t.match(result.checks.find((c) => c.id === 'key_binding')?.message, '"iss"')
})

t.test('"exp" that disagrees with validUntil is invalid; when they agree, a past date is only expired', async (t) => {
  const base = { ...samplePayload, validUntil: '2020-01-01T00:00:00Z' }
  const bad = await verify(await embedded({ ...base, exp: 1_700_000_000 }))
  t.equal(bad.status, 'invalid')
  t.equal(check(bad, 'key_binding'), 'failed')
  const good = await verify(await embedded({ ...base, exp: Date.parse('2020-01-01T00:00:00Z') / 1000 }))
  t.equal(good.status, 'expired', 'jose is not allowed to turn expiry into a signature failure')
  t.equal(good.expired, true)
  t.equal(check(good, 'proof'), 'passed')
})

t.test('options.at judges the validity period at that moment', async (t) => {
  const jwt = await embedded({ ...samplePayload, validUntil: '2020-01-01T00:00:00Z' })
  t.equal((await verify(jwt, trusting, new Date('2015-06-01T00:00:00Z'))).status, 'valid')
  t.equal((await verify(jwt, trusting, new Date('2009-06-01T00:00:00Z'))).status, 'not_yet_valid')
})

t.test('own issuers: a token signed with a published kid verifies; a compromised one does not', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const issuerId = 'https://1edtech.edu/issuers/565049'
  const kid = 'https://badges.test.example/keys/k1'
  const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(samplePayload))).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey)
  const sourcesWith = (status: string): VerificationSources => ({
    ...noSources,
    ownership: (id) => id === issuerId || id === kid ? 'own' : 'foreign',
    findOwnJwtKey: async (k) => k === kid ? { issuerId, publicJwk, alg: 'RS256', status } : undefined
  })
  t.equal((await verify(jwt, sourcesWith('active'))).status, 'valid')
  const compromised = await verify(jwt, sourcesWith('compromised'))
  t.equal(compromised.status, 'invalid')
  t.equal(check(compromised, 'key_binding'), 'failed')
})

t.test('own issuers: a token carrying its own jwk instead of a published kid is invalid', async (t) => {
  const result = await verify(sampleJwt, { ...noSources, ownership: (id) => id === 'https://1edtech.edu/issuers/565049' ? 'own' : 'foreign' })
  t.equal(result.status, 'invalid')
  t.equal(check(result, 'proof'), 'passed')
  t.equal(check(result, 'key_binding'), 'failed')
})

t.test('a kid that would need the network makes the result indeterminate', async (t) => {
  const { jwt } = await sign(samplePayload, { kid: 'https://elsewhere.example/keys/1' })
  const result = await verify(jwt)
  t.equal(result.status, 'indeterminate')
  t.equal(check(result, 'proof'), 'unknown')
})

t.test('a token with neither kid nor jwk is invalid with a reason that says so', async (t) => {
  const { jwt } = await sign(samplePayload, {})
  const result = await verify(jwt)
  t.equal(result.status, 'invalid')
  t.match(result.checks.find((c) => c.id === 'proof')?.message, 'neither "kid" nor "jwk"')
})

t.test('the signature check (node:crypto) accepts each algorithm\'s good signature and refuses a changed one, a truncated one and a weak RSA key', async (t) => {
  const payload = { ...samplePayload, validUntil: undefined, exp: undefined }
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
    const jwk = await exportJWK(publicKey)
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg, jwk }).sign(privateKey)
    t.equal(check(await verify(jwt, trusting), 'proof'), 'passed', `${alg}: a good signature`)
    const [h, p, s] = jwt.split('.') as [string, string, string]
    const flipped = Buffer.from(s, 'base64url')
    flipped[0] = (flipped[0] ?? 0) ^ 1
    t.equal(check(await verify(`${h}.${p}.${flipped.toString('base64url')}`, trusting), 'proof'), 'failed', `${alg}: one bit changed`)
    t.equal(check(await verify(`${h}.${p}.${s.slice(0, 20)}`, trusting), 'proof'), 'failed', `${alg}: a truncated signature is refused, not thrown`)
    const other = b64({ ...payload, name: 'Changed' })
    t.equal(check(await verify(`${h}.${other}.${s}`, trusting), 'proof'), 'failed', `${alg}: a changed payload`)
  }
  // jose will not make a 1024-bit token, so it is made by hand.
  const weakKeys = generateKeyPairSync('rsa', { modulusLength: 1024 })
  const weakInput = `${b64({ alg: 'RS256', jwk: weakKeys.publicKey.export({ format: 'jwk' }) })}.${b64(payload)}`
  const weak = `${weakInput}.${cryptoSign('sha256', Buffer.from(weakInput), weakKeys.privateKey).toString('base64url')}`
  const result = await verify(weak, trusting)
  t.equal(check(result, 'proof'), 'failed', 'a 1024-bit RSA key is refused')
  t.match(result.errors.map((e) => typeof e === 'string' ? e : e.message).join(' '), /2048 bits/)
})
