import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { exportJWK, importJWK, type JWK, SignJWT } from 'jose'
import { clientAuthenticationAnonymous, type JwtSigner, type SignJwtCallback } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

/**
 * An OID4VCI wallet for tests, built from independent parts only: the
 * OpenWallet Foundation's client (@openid4vc/openid4vci's Openid4vciClient),
 * keys from node:crypto, did:key encoded here from the multicodec spec, JWTs
 * signed with jose. Nothing of the service's own code.
 */

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** base58btc (the Bitcoin alphabet), written out here so the test shares no encoder with the service. */
function encodeBase58 (bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`)
  let out = ''
  while (n > 0n) { out = ALPHABET[Number(n % 58n)]! + out; n /= 58n }
  for (const byte of bytes) { if (byte !== 0) break; out = `1${out}` }
  return out
}

export interface WalletKey {
  did: string
  /** The verification method the proof's kid names. */
  kid: string
  alg: 'EdDSA' | 'ES256'
  publicJwk: JWK
  privateJwk: JWK
}

/** A did:key made in the test: Ed25519 (multicodec 0xed01) or P-256 (0x8024, compressed point). */
export async function generateWalletKey (type: 'Ed25519' | 'P-256' = 'Ed25519'): Promise<WalletKey> {
  const pair = type === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const publicJwk = await exportJWK(pair.publicKey)
  const privateJwk = await exportJWK(pair.privateKey)
  let bytes: Uint8Array
  if (type === 'Ed25519') {
    bytes = Uint8Array.from([0xed, 0x01, ...Buffer.from(publicJwk.x!, 'base64url')])
  } else {
    const y = Buffer.from(publicJwk.y!, 'base64url')
    bytes = Uint8Array.from([0x80, 0x24, (y[y.length - 1]! & 1) === 1 ? 3 : 2, ...Buffer.from(publicJwk.x!, 'base64url')])
  }
  const multibase = `z${encodeBase58(bytes)}`
  const did = `did:key:${multibase}`
  return { did, kid: `${did}#${multibase}`, alg: type === 'Ed25519' ? 'EdDSA' : 'ES256', publicJwk, privateJwk }
}

/** A did:jwk of a fresh key (its verification method is `#0`). */
export async function generateDidJwk (type: 'Ed25519' | 'P-256' = 'P-256'): Promise<WalletKey> {
  const pair = type === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const publicJwk = await exportJWK(pair.publicKey)
  const did = `did:jwk:${Buffer.from(JSON.stringify(publicJwk)).toString('base64url')}`
  return { did, kid: `${did}#0`, alg: type === 'Ed25519' ? 'EdDSA' : 'ES256', publicJwk, privateJwk: await exportJWK(pair.privateKey) }
}

/** Signs any JWT with a wallet key (a proof with chosen claims: how a test forges a wrong nonce or audience). */
export async function signWithWalletKey (key: WalletKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  return await new SignJWT(payload).setProtectedHeader({ alg: key.alg, ...header }).sign(await importJWK(key.privateJwk, key.alg))
}

/** A fetch that sends requests for `publicOrigin` to `listening` (the app on a loopback port), as DNS would. */
export function fetchVia (publicOrigin: string, listening: string): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const routed = url.startsWith(publicOrigin) ? `${listening}${url.slice(publicOrigin.length)}` : url
    if (typeof input === 'object' && !(input instanceof URL)) return await fetch(new Request(routed, input), init)
    return await fetch(routed, init)
  }
}

/** The library's client, with callbacks signing for one wallet key. */
export function walletClient (key: WalletKey, fetcher: typeof fetch): Openid4vciClient {
  const signJwt: SignJwtCallback = async (signer: JwtSigner, { header, payload }) => {
    if (signer.method !== 'did' || signer.didUrl !== key.kid) throw new Error(`this wallet signs only with ${key.kid}`)
    const jwt = await new SignJWT(payload).setProtectedHeader({ ...header, alg: key.alg }).sign(await importJWK(key.privateJwk, key.alg))
    return { jwt, signerJwk: key.publicJwk as never }
  }
  return new Openid4vciClient({
    callbacks: {
      fetch: fetcher,
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      generateRandom: (bytes) => randomBytes(bytes),
      signJwt,
      clientAuthentication: clientAuthenticationAnonymous()
    }
  })
}
