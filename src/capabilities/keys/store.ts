import type { Db } from '../../infrastructure/db/types.js'
import type { JWK } from 'jose'

interface PublishedKeyCommon {
  id: string
  issuerId: string
  status: 'active' | 'retired' | 'compromised'
  createdAt: Date
  compromisedAt: Date | null
}

/** An Ed25519 key signs Data Integrity proofs and is published as a Multikey. */
export interface PublishedEd25519Key extends PublishedKeyCommon {
  algorithm: 'Ed25519'
  publicKeyMultibase: string
  publicJwk: null
}

/** A VC-JWT key is published as a JWK (the table's check constraint holds the pairing). */
export interface PublishedJwkKey extends PublishedKeyCommon {
  algorithm: 'RS256' | 'ES256'
  publicKeyMultibase: null
  publicJwk: JWK
}

export type PublishedKey = PublishedEd25519Key | PublishedJwkKey

export type NewPublishedKey =
  | { id: string, issuerId: string, algorithm: 'Ed25519', publicKeyMultibase: string, createdAt: string }
  | { id: string, issuerId: string, algorithm: 'RS256', publicJwk: JWK, createdAt: string }

const columns = (sql: Db) => sql`
  id, issuer_id as "issuerId", algorithm, public_key_multibase as "publicKeyMultibase",
  public_jwk as "publicJwk", status, created_at as "createdAt", compromised_at as "compromisedAt"`

/**
 * Publishes a key's public half. Idempotent; returns the row as stored, so the
 * caller can check that a key file and the published key agree.
 */
export async function publishKey (sql: Db, key: NewPublishedKey, initialStatus: 'active' | 'retired' = 'active'): Promise<PublishedKey> {
  const multibase = key.algorithm === 'Ed25519' ? key.publicKeyMultibase : null
  const jwk = key.algorithm === 'Ed25519' ? null : sql.json(key.publicJwk as never)
  await sql`
    insert into signing_keys (id, issuer_id, algorithm, public_key_multibase, public_jwk, created_at, status, retired_at)
    values (${key.id}, ${key.issuerId}, ${key.algorithm}, ${multibase}, ${jwk}, ${key.createdAt}, ${initialStatus},
            ${initialStatus === 'retired' ? sql`now()` : null})
    on conflict (id) do nothing`
  const [row] = await sql<PublishedKey[]>`select ${columns(sql)} from signing_keys where id = ${key.id}`
  return row!
}

export async function findPublishedKey (sql: Db, id: string): Promise<PublishedKey | undefined> {
  const [row] = await sql<PublishedKey[]>`select ${columns(sql)} from signing_keys where id = ${id}`
  return row
}

export async function findEd25519Key (sql: Db, issuerId: string, publicKeyMultibase: string): Promise<PublishedEd25519Key | undefined> {
  const [row] = await sql<PublishedEd25519Key[]>`
    select ${columns(sql)} from signing_keys
    where issuer_id = ${issuerId} and algorithm = 'Ed25519' and public_key_multibase = ${publicKeyMultibase}`
  return row
}

/** Keys that still verify: every key ever published except compromised ones. */
export async function listVerifyingKeys (sql: Db, issuerId?: string): Promise<PublishedKey[]> {
  return await sql<PublishedKey[]>`
    select ${columns(sql)} from signing_keys
    where status <> 'compromised' ${issuerId === undefined ? sql`` : sql`and issuer_id = ${issuerId}`}
    order by created_at, id`
}

/** Retires every active key of an issuer except `keep` (after a rotation); returns their ids. */
export async function retireActiveKeys (sql: Db, issuerId: string, keep: readonly string[]): Promise<string[]> {
  const rows = await sql<Array<{ id: string }>>`
    update signing_keys set status = 'retired', retired_at = now(), updated_at = now()
    where issuer_id = ${issuerId} and status = 'active' and id not in ${sql([...keep])}
    returning id`
  return rows.map((r) => r.id)
}

/** Withdraws a key: nothing it signed from `since` on verifies. Returns the key as it was, or undefined. */
export async function markKeyCompromised (sql: Db, id: string, since: Date): Promise<PublishedKey | undefined> {
  const before = await findPublishedKey(sql, id)
  if (before === undefined) return undefined
  await sql`update signing_keys set status = 'compromised', compromised_at = ${since}, updated_at = now() where id = ${id}`
  return before
}
