import type { Sql } from 'postgres'
import { recordAuditEvent } from '../audit/store.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { generateKeySet, writeKeyFiles } from './key-files.js'
import { publicJwkOf } from './key-ring.js'
import { announceSigningKeysChanged } from './key-ring-refresh.js'
import { markKeyCompromised, publishKey, retireActiveKeys } from './store.js'

export interface KeyLifecycleDeps { sql: Sql, keysDir: string, actor: string, now: Date }

/**
 * Rotation: a new key pair (Ed25519 for Data Integrity, RS256 for VC-JWT) is
 * written to KEYS_DIR, published, and becomes the signer; the previous keys
 * are retired, so they still verify what they signed. Running instances reload
 * their keys when the change commits (the change feed: key-ring-refresh.ts).
 */
export async function rotateSigningKeys (deps: KeyLifecycleDeps, issuerId: string): Promise<{ newKeys: string[], retired: string[] }> {
  const keys = await generateKeySet(issuerId, deps.now)
  await writeKeyFiles(deps.keysDir, keys)
  return await deps.sql.begin(async (tx) => {
    for (const key of keys) {
      const published = key.algorithm === 'Ed25519'
        ? { id: key.id, issuerId, algorithm: 'Ed25519' as const, publicKeyMultibase: key.publicKeyMultibase, createdAt: key.createdAt }
        : { id: key.id, issuerId, algorithm: 'RS256' as const, publicJwk: publicJwkOf(key.privateJwk), createdAt: key.createdAt }
      await publishKey(tx, published)
    }
    const newKeys = keys.map((k) => k.id)
    const retired = await retireActiveKeys(tx, issuerId, newKeys)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'signing_key.rotated', subjectType: 'issuer', subjectId: issuerId, before: { active: retired }, after: { active: newKeys } })
    await announceSigningKeysChanged(tx)
    return { newKeys, retired }
  }) as { newKeys: string[], retired: string[] }
}

/**
 * Withdraws a key reported compromised: from `since` on, nothing it signed
 * verifies; it leaves the JWKS and the issuer Profile. What it signed before
 * still verifies, with a warning, when the signature is on record here.
 */
export async function compromiseSigningKey (deps: KeyLifecycleDeps, keyId: string, since: Date): Promise<void> {
  if (since.getTime() > deps.now.getTime()) throw new AppError('validation_failed', '"since" cannot be in the future.')
  await deps.sql.begin(async (tx) => {
    const before = await markKeyCompromised(tx, keyId, since)
    if (before === undefined) throw notFound(`Signing key "${keyId}"`)
    await recordAuditEvent(tx, { actor: deps.actor, action: 'signing_key.compromised', subjectType: 'signing_key', subjectId: keyId, reason: `compromised since ${since.toISOString()}`, before: { status: before.status }, after: { status: 'compromised', since: since.toISOString() } })
    // A compromised signer must stop signing everywhere now.
    await announceSigningKeysChanged(tx)
  })
}
