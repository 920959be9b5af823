import { verify as verifySignature, type KeyObject } from 'node:crypto'
import { decodeProtectedHeader, type JWK } from 'jose'
import { isObject } from '../../../kernel/json.js'
import { impostorMessage } from './key-resolution.js'
import { importPublicKey, jwkIdentity, memoised, PureCheckCache } from '../pure-check-cache.js'
import { multikeyToJwk } from '../multikey.js'
import { issuerId } from '../credential-fields.js'
import { credentialFromPayload } from '../jwt-claims.js'
import { decodeJwsPayload } from '../parse-input.js'
import type { VerificationSources } from '../sources.js'

/**
 * VC-JWT (OB 3.0 section 8.2): a compact JWS over the credential. Only the
 * signature and the key are judged here; dates are the validity_period
 * check's business, so jose is never asked about exp/nbf (an expired token is
 * "expired", not "invalid").
 */

type Json = Record<string, unknown>
type Outcome = { result: 'passed' | 'failed' | 'unknown', message: string }

export interface JwtOutcome {
  proof: Outcome
  /** Where the key came from, judged against the issuer later (key_binding). */
  key?: { source: 'jwk' | 'own-kid' | 'did-key' | 'published', issuerId?: string, status?: string, id?: string, compromisedAt?: Date, publishedAt?: string }
  header?: Json
  payload?: Json
  /** The JWS signature part, when it verified (a withdrawn key is judged by it). */
  signature?: string
  /** The token's hash (PureCheckCache.hashOf), made once: every check of this credential is keyed by it. */
  contentHash?: string
}

const ALLOWED: Record<string, (jwk: JWK) => boolean> = {
  RS256: (jwk) => jwk.kty === 'RSA',
  ES256: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  EdDSA: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
}
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

const failed = (message: string): Outcome => ({ result: 'failed', message })
const unknown = (message: string): Outcome => ({ result: 'unknown', message })

async function findKey (header: Json, sources: VerificationSources, payload?: Json): Promise<{ jwk: JWK, key: NonNullable<JwtOutcome['key']> } | Outcome> {
  if (header.jwk !== undefined) {
    if (!isObject(header.jwk)) return failed('The JOSE header "jwk" is not a JSON Web Key.')
    const jwk = header.jwk as JWK
    // A private key in the header means the token was made carelessly or
    // maliciously; either way it proves nothing about the issuer.
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) return failed('The JOSE header "jwk" holds private key material; only a public key may be sent.')
    return { jwk, key: { source: 'jwk' } }
  }
  const kid = header.kid
  if (typeof kid === 'string' && kid !== '') {
    const ownership = sources.ownership(kid)
    if (ownership === 'impostor') return failed(impostorMessage('key id ("kid")', kid))
    const own = ownership === 'own' ? await sources.findOwnJwtKey(kid) : undefined
    if (own !== undefined) return { jwk: own.publicJwk, key: { source: 'own-kid', issuerId: own.issuerId, status: own.status, id: kid, ...(own.compromisedAt !== undefined ? { compromisedAt: own.compromisedAt } : {}) } }
    if (ownership === 'own') return failed(`The "kid" "${kid}" is not a signing key this service published.`)
    if (kid.startsWith('did:key:')) {
      const identifier = kid.slice('did:key:'.length).split('#')[0] ?? ''
      const jwk = await multikeyToJwk(identifier)
      if (jwk === undefined) return failed(`The "kid" "${kid}" is not a well-formed did:key.`)
      return { jwk, key: { source: 'did-key', issuerId: `did:key:${identifier}`, id: kid } }
    }
    if (sources.findForeignJwtKey === undefined) return unknown(`The key "${kid}" would have to be fetched over the network.`)
    // The issuer as the token states it: a key is looked for only where that issuer publishes.
    const resolution = await sources.findForeignJwtKey(kid, payload === undefined ? undefined : issuerId(credentialFromPayload(payload)))
    if (!resolution.ok) return { result: resolution.result, message: resolution.message }
    return { jwk: resolution.key.publicJwk, key: { source: 'published', issuerId: resolution.key.controller, id: kid, publishedAt: resolution.key.documentUrl } }
  }
  // Nothing anywhere could make this token verifiable: VC-JWT requires the
  // header to identify its key, so it is malformed rather than unresolvable.
  return failed('The JOSE header has neither "kid" nor "jwk", so no key can verify the signature.')
}

/**
 * The JWS signature check (RFC 7515 section 5.2) for the three accepted
 * algorithms, by node:crypto with a cached KeyObject: jose goes through
 * WebCrypto, whose asynchronous job costs several times the RSA check itself
 * (measured: 6% of the service's CPU under VC-JWT load). Header and key are
 * judged before this; only the signature over "header.payload" is checked here.
 */
function signatureVerifies (jwt: string, alg: string, key: KeyObject): boolean {
  const lastDot = jwt.lastIndexOf('.')
  const signingInput = Buffer.from(jwt.slice(0, lastDot), 'ascii')
  const signature = Buffer.from(jwt.slice(lastDot + 1), 'base64url')
  try {
    if (alg === 'EdDSA') return verifySignature(null, signingInput, key, signature)
    if (alg === 'ES256') return verifySignature('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
    return verifySignature('sha256', signingInput, key, signature)
  } catch {
    // A signature of the wrong length for the curve, say: it does not verify.
    return false
  }
}

/** What jose also refused: RSA keys under 2048 bits (RFC 7518 section 3.3). */
function keyTooWeak (alg: string, key: KeyObject): boolean {
  return alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048
}

/** Checks the JWS signature of a VC-JWT and returns its decoded header and payload. */
export async function verifyJwtProof (jwt: string, sources: VerificationSources, pureChecks?: PureCheckCache, decodedPayload: unknown = decodeJwsPayload(jwt)): Promise<JwtOutcome> {
  let header: Json
  try {
    header = decodeProtectedHeader(jwt) as Json
  } catch {
    return { proof: failed('The JWS protected header is not valid base64url JSON.') }
  }
  // Decoded once per verification: the caller may have read it already (is it an OB 2.0 assertion?).
  const payload = isObject(decodedPayload) ? decodedPayload : undefined
  if (payload === undefined) return { header, proof: failed('The JWS payload is not a JSON object.') }
  const alg = header.alg
  if (typeof alg !== 'string' || ALLOWED[alg] === undefined) {
    return { header, payload, proof: failed(`The JWS algorithm "${String(alg)}" is not accepted; use RS256, ES256 or EdDSA.`) }
  }
  if (header.crit !== undefined) return { header, payload, proof: failed('The JWS header has "crit" extensions this verifier does not understand.') }

  const found = await findKey(header, sources, payload)
  if ('result' in found) return { header, payload, proof: found }
  // The algorithm must fit the key: an RSA key read as an HMAC secret is the classic forgery.
  if (!ALLOWED[alg]!(found.jwk)) {
    return { header, payload, key: found.key, proof: failed(`The "${alg}" algorithm does not match the ${found.jwk.kty ?? 'unknown'} key.`) }
  }
  let key: KeyObject
  try {
    // Importing a JWK costs more than checking an RS256 signature: the app's cache keeps imported public keys.
    key = pureChecks === undefined ? importPublicKey(found.jwk) : pureChecks.publicKey(found.jwk)
  } catch (error) {
    return { header, payload, key: found.key, proof: failed(`The JWS key cannot be read: ${(error as Error).message}`) }
  }
  if (keyTooWeak(alg, key)) return { header, payload, key: found.key, proof: failed('The JWS could not be verified: RS256 requires an RSA key of 2048 bits or more.') }
  // The signature's verdict depends only on the token's bytes and the key: a token seen before is not checked again.
  const contentHash = pureChecks === undefined ? undefined : PureCheckCache.hashOf(jwt)
  const verifies = await memoised(pureChecks, `jws:${alg}:${pureChecks === undefined ? '' : jwkIdentity(found.jwk)}`, jwt, async () => signatureVerifies(jwt, alg, key), contentHash)
  const hashed = contentHash === undefined ? {} : { contentHash }
  if (!verifies) return { header, payload, key: found.key, proof: failed(`The ${alg} signature does not verify.`), ...hashed }
  return { header, payload, key: found.key, signature: jwt.split('.')[2] ?? '', proof: { result: 'passed', message: `The ${alg} signature verifies.` }, ...hashed }
}
