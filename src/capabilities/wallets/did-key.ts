import type { JWK } from 'jose'
import { multikeyToJwk, multikeyType, type MultikeyType } from '../verification/multikey.js'

/**
 * did:key resolved locally (W3C CCG did:key method, the multibase public key
 * is the identifier): what a wallet's DID authentication (VC API exchange) and
 * proof of possession (OID4VCI `kid`) name. Nothing is fetched; any other DID
 * method is refused, since resolving it would reach the network.
 */

const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1'
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'

export interface ResolvedDidKey {
  /** `did:key:z6Mk…` */
  did: string
  /** `did:key:z6Mk…#z6Mk…`: the one verification method a did:key has. */
  verificationMethod: string
  publicKeyMultibase: string
  keyType: MultikeyType
  /** The public key as a JWK (OKP/Ed25519 or EC/P-256). */
  publicKeyJwk: JWK
  /**
   * The documents a JSON-LD proof check loads, by URL: the verification
   * method (Multikey) and the DID document (the key for authentication and
   * assertion, as the did:key method derives it).
   */
  documents: Record<string, Record<string, unknown>>
}

/** Why a DID (or verification method) cannot be resolved here; `message` says it to the wallet. */
export class DidKeyError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DidKeyError'
  }
}

/**
 * Resolves `did:key:z…` or `did:key:z…#z…` to its public key. Throws
 * DidKeyError for another DID method, a fragment that is not the key itself,
 * or a key that is not a well-formed Ed25519 or P-256 public key.
 */
export async function resolveDidKey (didOrVerificationMethod: string): Promise<ResolvedDidKey> {
  if (typeof didOrVerificationMethod !== 'string' || didOrVerificationMethod.length > 200) throw new DidKeyError('The key identifier is not a did:key.')
  const hashAt = didOrVerificationMethod.indexOf('#')
  const did = hashAt === -1 ? didOrVerificationMethod : didOrVerificationMethod.slice(0, hashAt)
  const fragment = hashAt === -1 ? undefined : didOrVerificationMethod.slice(hashAt + 1)
  if (!did.startsWith('did:key:')) {
    const method = /^did:([a-z0-9]+):/.exec(did)?.[1]
    throw new DidKeyError(method === undefined
      ? `"${didOrVerificationMethod}" is not a DID; only did:key is accepted.`
      : `The DID method "${method}" is not accepted: only did:key (resolved without the network) is.`)
  }
  const publicKeyMultibase = did.slice('did:key:'.length)
  if (fragment !== undefined && fragment !== publicKeyMultibase) throw new DidKeyError(`The verification method "${didOrVerificationMethod}" names a fragment that is not its own key.`)
  const keyType = multikeyType(publicKeyMultibase)
  if (keyType === undefined) throw new DidKeyError(`"${did}" does not hold a well-formed Ed25519 or P-256 public key.`)
  const publicKeyJwk = await multikeyToJwk(publicKeyMultibase)
  if (publicKeyJwk === undefined) throw new DidKeyError(`"${did}" does not hold a well-formed Ed25519 or P-256 public key.`)
  const verificationMethod = `${did}#${publicKeyMultibase}`
  return {
    did,
    verificationMethod,
    publicKeyMultibase,
    keyType,
    publicKeyJwk,
    documents: {
      [verificationMethod]: { '@context': MULTIKEY_CONTEXT, id: verificationMethod, type: 'Multikey', controller: did, publicKeyMultibase },
      [did]: {
        '@context': [DID_CONTEXT, MULTIKEY_CONTEXT],
        id: did,
        verificationMethod: [{ id: verificationMethod, type: 'Multikey', controller: did, publicKeyMultibase }],
        authentication: [verificationMethod],
        assertionMethod: [verificationMethod]
      }
    }
  }
}
