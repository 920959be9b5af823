import { CompactSign } from 'jose'
import type { DataIntegrity } from './pool.js'
import runTask, { type KeyMaterial } from './tasks.js'
import type { Ed25519KeyPair } from '@digitalbazaar/ed25519-multikey'
import type { KeyObject } from 'node:crypto'
import { epochSeconds } from '../../kernel/time.js'
import { inSpan } from '../tracing/tracing.js'

export type UnsignedCredential = Record<string, unknown> & { id: string, issuer: { id: string } | string }

/** A Data Integrity signing key: the Ed25519 pair and the verification method its proofs name. */
export interface DataIntegritySigningKey { keyId: string, verificationMethod: string, keyPair: Ed25519KeyPair }

/** A VC-JWT signing key: the private key and the `kid` its tokens name. */
export interface JwtSigningKey { keyId: string, kid: string, alg: 'RS256', privateKey: KeyObject }

const materials = new WeakMap<Ed25519KeyPair, Promise<KeyMaterial>>()

/** The key pair as the signing task takes it (its Multikey export), made once per key pair. */
async function materialOf (keyPair: Ed25519KeyPair): Promise<KeyMaterial> {
  let material = materials.get(keyPair)
  if (material === undefined) {
    material = (async () => {
      const exported = await keyPair.export({ publicKey: true, secretKey: true, includeContext: false }) as { publicKeyMultibase: string, secretKeyMultibase: string }
      return { id: keyPair.id as string, controller: keyPair.controller as string, publicKeyMultibase: exported.publicKeyMultibase, secretKeyMultibase: exported.secretKeyMultibase }
    })()
    materials.set(keyPair, material)
  }
  return await material
}

/**
 * Adds an eddsa-rdfc-2022 DataIntegrityProof. Signing runs JSON-LD in safe
 * mode, so a term missing from the contexts fails here rather than producing an
 * unverifiable credential. The proof is emitted as an array, as the 1EdTech
 * schema requires for every set. Runs where `dataIntegrity` runs its tasks (the
 * app's threads); without one, on this thread, importing the key each time.
 */
export async function signDataIntegrity (
  credential: UnsignedCredential,
  key: DataIntegritySigningKey,
  now: Date,
  dataIntegrity?: DataIntegrity
): Promise<Record<string, unknown>> {
  return await inSpan('sign data-integrity', { 'tessera.key_id': key.keyId, 'tessera.cryptosuite': 'eddsa-rdfc-2022' }, async () => {
    const task = { kind: 'sign' as const, credential: structuredClone(credential), key: await materialOf(key.keyPair), created: now.toISOString() }
    const signed = dataIntegrity === undefined ? await runTask(task) as Record<string, unknown> : await dataIntegrity.run<Record<string, unknown>>(task)
    const proof = signed.proof as unknown
    return { ...signed, proof: Array.isArray(proof) ? proof : [proof] }
  })
}

/**
 * Secures the same credential as a VC-JWT (OB 3.0 section 8.2): a compact JWS
 * whose payload is the credential plus the registered claims that mirror it.
 * The header holds only alg, kid and typ, as the 1EdTech validator expects.
 */
export async function signJwt (credential: UnsignedCredential, key: JwtSigningKey, now?: Date): Promise<string> {
  const issuerId = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer.id
  const payload: Record<string, unknown> = { ...credential, iss: issuerId, jti: credential.id }
  // OB 3.0 8.2.4.1: `sub` is the credentialSubject's id.
  const subject = credential.credentialSubject as { id?: unknown } | undefined
  if (typeof subject?.id === 'string') payload.sub = subject.id
  if (typeof credential.validFrom === 'string') payload.nbf = epochSeconds(credential.validFrom)
  if (typeof credential.validUntil === 'string') payload.exp = epochSeconds(credential.validUntil)
  // When it was signed: what a withdrawn key's signatures are judged by.
  if (now !== undefined) payload.iat = Math.floor(now.getTime() / 1000)
  return await inSpan('sign vc-jwt', { 'tessera.key_id': key.keyId, 'tessera.alg': key.alg }, async () =>
    await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey))
}
