import type { JWK } from 'jose'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey'
import { decode as decodeBase58 } from 'base58-universal'

/**
 * Multikey public keys named by a verification method itself (the fragment of
 * `<controller>#z6Mk…` or a did:key). Decoding is strict so a garbled
 * identifier is reported as a bad key rather than passed to a library that
 * might throw something unhelpful.
 */

export type MultikeyType = 'Ed25519' | 'P-256'

/** The key type of a base58btc multibase public key, or undefined if it is not a well-formed Ed25519 or P-256 key. */
export function multikeyType (publicKeyMultibase: string): MultikeyType | undefined {
  if (!publicKeyMultibase.startsWith('z') || publicKeyMultibase.length > 80) return undefined
  const bytes = decodeBase58(publicKeyMultibase.slice(1))
  if (bytes === undefined) return undefined
  // Multicodec headers: ed25519-pub 0xed01 + 32 bytes; p256-pub 0x8024 + 33 bytes (compressed point).
  if (bytes.length === 34 && bytes[0] === 0xed && bytes[1] === 0x01) return 'Ed25519'
  if (bytes.length === 35 && bytes[0] === 0x80 && bytes[1] === 0x24 && (bytes[2] === 2 || bytes[2] === 3)) return 'P-256'
  return undefined
}

/** The public JWK of a multibase key, for VC-JWT kids that are did:key URLs. */
export async function multikeyToJwk (publicKeyMultibase: string): Promise<JWK | undefined> {
  const type = multikeyType(publicKeyMultibase)
  if (type === 'Ed25519') {
    const keyPair = await Ed25519Multikey.from({ type: 'Multikey', publicKeyMultibase })
    return await Ed25519Multikey.toJwk({ keyPair }) as JWK
  }
  if (type === 'P-256') {
    const keyPair = await EcdsaMultikey.from({ type: 'Multikey', publicKeyMultibase })
    return await EcdsaMultikey.toJwk({ keyPair }) as JWK
  }
  return undefined
}
