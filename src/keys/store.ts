import type { Db } from '../db/types.js'
import type { JWK } from 'jose'

export interface PublishedKey {
  id: string
  issuerId: string
  algorithm: 'Ed25519' | 'RS256' | 'ES256'
  publicKeyMultibase: string | null
  publicJwk: JWK | null
  status: 'active' | 'retired' | 'compromised'
  createdAt: Date
  compromisedAt: Date | null
}

const columns = (sql: Db) => sql`
  id, issuer_id as "issuerId", algorithm, public_key_multibase as "publicKeyMultibase",
  public_jwk as "publicJwk", status, created_at as "createdAt", compromised_at as "compromisedAt"`

/**
 * Publishes a key's public half. Idempotent; returns the row as stored, so the
 * caller can check that a key file and the published key agree.
 */
export async function publishKey (sql: Db, key: { id: string, issuerId: string, algorithm: 'Ed25519' | 'RS256', publicKeyMultibase?: string, publicJwk?: JWK, createdAt: string }): Promise<PublishedKey> {
  await sql`
    insert into signing_keys (id, issuer_id, algorithm, public_key_multibase, public_jwk, created_at)
    values (${key.id}, ${key.issuerId}, ${key.algorithm}, ${key.publicKeyMultibase ?? null},
            ${key.publicJwk === undefined ? null : sql.json(key.publicJwk as never)}, ${key.createdAt})
    on conflict (id) do nothing`
  const [row] = await sql<PublishedKey[]>`select ${columns(sql)} from signing_keys where id = ${key.id}`
  return row!
}

export async function findPublishedKey (sql: Db, id: string): Promise<PublishedKey | undefined> {
  const [row] = await sql<PublishedKey[]>`select ${columns(sql)} from signing_keys where id = ${id}`
  return row
}

export async function findEd25519Key (sql: Db, issuerId: string, publicKeyMultibase: string): Promise<PublishedKey | undefined> {
  const [row] = await sql<PublishedKey[]>`
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
