import { compactVerify, importJWK, type JWK } from 'jose'
import type { JwtSigner, VerifyJwtCallback } from '@openid4vc/oauth2'
import { DidKeyError, resolveDidKey } from './did-key.js'

/**
 * The wallet's key behind an OID4VCI `jwt` proof of possession: the proof's
 * `kid` is a DID URL, resolved here, locally, and never fetched. did:key
 * (Ed25519 `z6Mk…`, P-256 `zDn…`) and did:jwk (an Ed25519 or P-256 public
 * JWK) are the methods whose documents are the identifier itself.
 */

/** The proof algorithms verified (what the issuer metadata advertises). */
export const PROOF_ALGS = ['EdDSA', 'ES256'] as const
/** The DID methods a wallet may bind the badge to. */
export const BINDING_METHODS = ['did:key', 'did:jwk'] as const

export interface ResolvedProofKey {
  /** The DID the credential is bound to (the kid without its fragment). */
  did: string
  jwk: JWK
  /** The JWS alg this key signs with. */
  alg: 'EdDSA' | 'ES256'
}

/** A reason a proof's key is refused: the wallet's fault, said in the OAuth error's description. */
export class ProofKeyError extends Error {}

const MAX_KID_LENGTH = 2000

function fromJwk (jwk: Record<string, unknown>): { jwk: JWK, alg: 'EdDSA' | 'ES256' } {
  if ('d' in jwk) throw new ProofKeyError('The did:jwk holds a private key: it must be a public key.')
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string') return { jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, alg: 'EdDSA' }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string') return { jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, alg: 'ES256' }
  throw new ProofKeyError('Only Ed25519 and P-256 keys are supported.')
}

/**
 * Resolves a proof's `kid`: `did:key:<mb>#<mb>` (the fragment is the key's
 * own multibase) or `did:jwk:<base64url JWK>#0`.
 */
export async function resolveProofKid (kid: string): Promise<ResolvedProofKey> {
  if (kid.length > MAX_KID_LENGTH) throw new ProofKeyError('The proof\'s kid is too long.')
  const hash = kid.indexOf('#')
  if (hash < 0) throw new ProofKeyError('The proof\'s kid must be a DID URL naming a verification method (did:key:z…#z…).')
  const did = kid.slice(0, hash)
  const fragment = kid.slice(hash + 1)
  if (did.startsWith('did:key:')) {
    // The one did:key resolver (the VC API exchange's too); its refusals are this proof's.
    const resolved = await resolveDidKey(kid).catch((error: unknown) => { throw error instanceof DidKeyError ? new ProofKeyError(error.message) : error })
    return { did: resolved.did, ...fromJwk(resolved.publicKeyJwk as Record<string, unknown>) }
  }
  if (did.startsWith('did:jwk:')) {
    if (fragment !== '0') throw new ProofKeyError('A did:jwk verification method is <did>#0.')
    let decoded: unknown
    try {
      decoded = JSON.parse(Buffer.from(did.slice('did:jwk:'.length), 'base64url').toString('utf8'))
    } catch {
      throw new ProofKeyError('The did:jwk is not a base64url-encoded JWK.')
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw new ProofKeyError('The did:jwk is not a base64url-encoded JWK.')
    return { did, ...fromJwk(decoded as Record<string, unknown>) }
  }
  throw new ProofKeyError('Only did:key and did:jwk proofs are accepted (a DID the service resolves itself).')
}

/**
 * The library's verifyJwt callback: a signer named by a DID is resolved
 * locally and its signature checked with jose; a bare `jwk` or an x5c chain
 * is refused, since the badge is bound to a DID.
 */
export const verifyProofJwt: VerifyJwtCallback = async (signer: JwtSigner, { compact, header }) => {
  if (signer.method !== 'did') throw new ProofKeyError('The proof must name its key by a DID URL in kid (did:key or did:jwk), not a bare jwk.')
  const key = await resolveProofKid(signer.didUrl)
  if (header.alg !== key.alg) throw new ProofKeyError(`The proof's alg ${String(header.alg)} does not fit its key (${key.alg}).`)
  try {
    await compactVerify(compact, await importJWK(key.jwk, key.alg), { algorithms: [key.alg] })
  } catch {
    return { verified: false }
  }
  return { verified: true, signerJwk: key.jwk as never }
}
