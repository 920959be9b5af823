import { createPublicKey, createPrivateKey } from 'node:crypto'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import type { JWK } from 'jose'
import type { Sql } from 'postgres'
import type { DataIntegritySigningKey, JwtSigningKey } from '../../infrastructure/signing/sign.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { KeyFileError, readKeyFiles, type KeyFile } from './key-files.js'
import { publishKey, type NewPublishedKey } from './store.js'

/** The keys an issuer signs with right now. */
export interface IssuerSigningKeys {
  dataIntegrity: DataIntegritySigningKey
  jwt: JwtSigningKey
}

/** Private keys held in memory for signing, per issuer. Never serialised, never logged. */
export interface KeyRing {
  signingKeys: (issuerId: string) => IssuerSigningKeys | undefined
  /**
   * Re-reads the key files and the keys' states from the database and swaps
   * the signers when anything changed; true when it did. Rings built from a
   * folder have it; a fixed ring (tests) does not.
   */
  refresh?: () => Promise<boolean>
}

export function publicJwkOf (privateJwk: JWK): JWK {
  const { kty, n, e, crv, x, y } = createPublicKey(createPrivateKey({ key: privateJwk as never, format: 'jwk' })).export({ format: 'jwk' }) as JWK
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined)) as JWK
}

/**
 * Publishes the public half of every key file (so old keys keep verifying after
 * rotation) and picks, per issuer and algorithm, the newest active key for signing.
 * Fails when a key file disagrees with the key already published under its id.
 */
export async function buildKeyRing (sql: Sql, urls: PublicUrls, files: KeyFile[]): Promise<KeyRing> {
  const newestActive = new Map<string, KeyFile>()
  for (const file of files) {
    const key: NewPublishedKey = file.algorithm === 'Ed25519'
      ? { id: file.id, issuerId: file.issuer, algorithm: 'Ed25519', publicKeyMultibase: file.publicKeyMultibase, createdAt: file.createdAt }
      : { id: file.id, issuerId: file.issuer, algorithm: 'RS256', publicJwk: publicJwkOf(file.privateJwk), createdAt: file.createdAt }
    const published = await publishKey(sql, key, file.status).catch((error: { code?: string }) => {
      if (error.code === '23503') throw new KeyFileError(`Key file "${file.id}" names issuer "${file.issuer}", which does not exist.`)
      throw error
    })
    const same = key.algorithm === 'Ed25519'
      ? published.publicKeyMultibase === key.publicKeyMultibase
      : published.publicJwk?.n === key.publicJwk.n && published.publicJwk?.e === key.publicJwk.e
    if (!same || published.issuerId !== file.issuer) {
      throw new KeyFileError(`Key file "${file.id}" does not match the key already published under that id.`)
    }
    // The database is the authority on a key's state (a file's status only seeds it, at first publication).
    if (published.status !== 'active') continue
    const slot = `${file.issuer}\u0000${file.algorithm}`
    const current = newestActive.get(slot)
    if (current === undefined || current.createdAt < file.createdAt) newestActive.set(slot, file)
  }

  const ring = new Map<string, IssuerSigningKeys>()
  const issuers = new Set(files.map((f) => f.issuer))
  for (const issuerId of issuers) {
    const ed = newestActive.get(`${issuerId}\u0000Ed25519`)
    const rs = newestActive.get(`${issuerId}\u0000RS256`)
    if (ed?.algorithm !== 'Ed25519' || rs?.algorithm !== 'RS256') continue
    const verificationMethod = urls.verificationMethod(issuerId, ed.publicKeyMultibase)
    const keyPair = await Ed25519Multikey.from({
      id: verificationMethod,
      controller: urls.issuer(issuerId),
      publicKeyMultibase: ed.publicKeyMultibase,
      secretKeyMultibase: ed.secretKeyMultibase
    })
    ring.set(issuerId, {
      dataIntegrity: { keyId: ed.id, verificationMethod, keyPair },
      jwt: { keyId: rs.id, kid: urls.key(rs.id), alg: 'RS256', privateKey: createPrivateKey({ key: rs.privateJwk as never, format: 'jwk' }) }
    })
  }
  return { signingKeys: (issuerId) => ring.get(issuerId) }
}

/**
 * The service's key ring: built from the key files and the database, and
 * rebuilt by refresh() when a key's state changed in the database (a
 * rotation or a compromise made by the admin CLI or another instance) or a
 * key file appeared. The fingerprint is one cheap query.
 */
export async function loadKeyRing (sql: Sql, urls: PublicUrls, keysDir: string): Promise<KeyRing> {
  const fingerprint = async (): Promise<string> => {
    const [row] = await sql<[{ stamp: string }]>`select coalesce(max(updated_at)::text, '') || '/' || count(*) as stamp from signing_keys`
    return `${row.stamp}/${(await readKeyFiles(keysDir)).map((f) => f.id).join(',')}`
  }
  let current = await buildKeyRing(sql, urls, await readKeyFiles(keysDir))
  let seen = await fingerprint()
  return {
    signingKeys: (issuerId) => current.signingKeys(issuerId),
    refresh: async () => {
      const now = await fingerprint()
      if (now === seen) return false
      current = await buildKeyRing(sql, urls, await readKeyFiles(keysDir))
      seen = await fingerprint()
      return true
    }
  }
}
