import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { CompactSign } from 'jose'
import { staticDocumentLoader } from '../jsonld/document-loader.js'
import type { IssuerSigningKeys } from '../keys/key-ring.js'
import { epochSeconds } from '../time.js'

export type UnsignedCredential = Record<string, unknown> & { id: string, issuer: { id: string } | string }

type Ed25519KeyPair = IssuerSigningKeys['dataIntegrity']['keyPair']
interface Signer { id: string, algorithm: 'Ed25519', sign: (input: { data: Uint8Array }) => Promise<Uint8Array> }
const signers = new WeakMap<Ed25519KeyPair, Promise<Signer>>()

/**
 * The key pair's signer, with its private key imported once. The library's
 * own signer imports the key (DER to KeyObject) on every signature: about
 * 0.4 ms, a twentieth of issuing a credential. Ed25519 signatures are
 * deterministic, so this one signs byte for byte as the library's would.
 */
async function signerOf (keyPair: Ed25519KeyPair): Promise<Signer> {
  let signer = signers.get(keyPair)
  if (signer === undefined) {
    signer = (async () => {
      const jwk = await Ed25519Multikey.toJwk({ keyPair, secretKey: true }) as { d: string }
      // The multikey's secret key is seed and public key (64 bytes); a JWK's d is the seed.
      const key: KeyObject = createPrivateKey({ key: { ...jwk, d: Buffer.from(jwk.d, 'base64url').subarray(0, 32).toString('base64url') }, format: 'jwk' })
      return { id: keyPair.id as string, algorithm: 'Ed25519' as const, sign: async ({ data }: { data: Uint8Array }) => cryptoSign(null, data, key) }
    })()
    signers.set(keyPair, signer)
  }
  return await signer
}

/**
 * Adds an eddsa-rdfc-2022 DataIntegrityProof. Signing runs JSON-LD in safe
 * mode, so a term missing from the contexts fails here rather than producing an
 * unverifiable credential. The proof is emitted as an array, as the 1EdTech
 * schema requires for every set.
 */
export async function signDataIntegrity (
  credential: UnsignedCredential,
  key: IssuerSigningKeys['dataIntegrity'],
  now: Date
): Promise<Record<string, unknown>> {
  const suite = new DataIntegrityProof({ signer: await signerOf(key.keyPair), cryptosuite: eddsaRdfc2022, date: now })
  const signed = await vc.issue({ credential: structuredClone(credential), suite, documentLoader: staticDocumentLoader })
  const proof = signed.proof as unknown
  return { ...signed, proof: Array.isArray(proof) ? proof : [proof] }
}

/**
 * Secures the same credential as a VC-JWT (OB 3.0 section 8.2): a compact JWS
 * whose payload is the credential plus the registered claims that mirror it.
 * The header holds only alg, kid and typ, as the 1EdTech validator expects.
 */
export async function signJwt (credential: UnsignedCredential, key: IssuerSigningKeys['jwt'], now?: Date): Promise<string> {
  const issuerId = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer.id
  const payload: Record<string, unknown> = { ...credential, iss: issuerId, jti: credential.id }
  if (typeof credential.validFrom === 'string') payload.nbf = epochSeconds(credential.validFrom)
  if (typeof credential.validUntil === 'string') payload.exp = epochSeconds(credential.validUntil)
  // When it was signed: what a withdrawn key's signatures are judged by.
  if (now !== undefined) payload.iat = Math.floor(now.getTime() / 1000)
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey)
}
