import type { Db } from '../../infrastructure/db/types.js'

/** One offer to put one badge in one wallet (migration 0019). */
export interface WalletOfferRow {
  id: string
  credentialId: string
  holderEmail: string
  channel: 'portal' | 'email'
  createdAt: Date
  expiresAt: Date
  txCodeHash: string | null
  vcapiChallenge: string | null
  preAuthorizedCodeHash: string | null
  accessTokenHash: string | null
  accessTokenExpiresAt: Date | null
  failedAttempts: number
  deliveredAt: Date | null
  deliveredVersion: number | null
  deliveredProtocol: 'vcapi' | 'oid4vci' | null
  subjectDid: string | null
}

const columns = (sql: Db) => sql`
  id, credential_id as "credentialId", holder_email as "holderEmail", channel, created_at as "createdAt",
  expires_at as "expiresAt", tx_code_hash as "txCodeHash", vcapi_challenge as "vcapiChallenge",
  pre_authorized_code_hash as "preAuthorizedCodeHash", access_token_hash as "accessTokenHash",
  access_token_expires_at as "accessTokenExpiresAt", failed_attempts as "failedAttempts",
  delivered_at as "deliveredAt", delivered_version as "deliveredVersion", delivered_protocol as "deliveredProtocol",
  subject_did as "subjectDid"`

export interface NewWalletOffer {
  id: string
  tokenHash: string
  credentialId: string
  holderEmail: string
  channel: 'portal' | 'email'
  createdAt: Date
  expiresAt: Date
  txCodeHash: string | null
  preAuthorizedCodeHash: string
}

export async function insertWalletOffer (sql: Db, offer: NewWalletOffer): Promise<void> {
  await sql`
    insert into wallet_offers (id, token_hash, credential_id, holder_email, channel, created_at, expires_at, tx_code_hash, pre_authorized_code_hash)
    values (${offer.id}, ${offer.tokenHash}, ${offer.credentialId}, ${offer.holderEmail}, ${offer.channel}, ${offer.createdAt}, ${offer.expiresAt}, ${offer.txCodeHash}, ${offer.preAuthorizedCodeHash})`
}

export async function findWalletOfferByTokenHash (sql: Db, tokenHash: string): Promise<WalletOfferRow | undefined> {
  const [row] = await sql<WalletOfferRow[]>`select ${columns(sql)} from wallet_offers where token_hash = ${tokenHash}`
  return row
}

export async function findWalletOfferByPreAuthorizedCodeHash (sql: Db, codeHash: string): Promise<WalletOfferRow | undefined> {
  const [row] = await sql<WalletOfferRow[]>`select ${columns(sql)} from wallet_offers where pre_authorized_code_hash = ${codeHash}`
  return row
}

export async function findWalletOfferByAccessTokenHash (sql: Db, tokenHash: string): Promise<WalletOfferRow | undefined> {
  const [row] = await sql<WalletOfferRow[]>`select ${columns(sql)} from wallet_offers where access_token_hash = ${tokenHash}`
  return row
}

/** The offer, locked for the delivering transaction. */
export async function lockWalletOffer (tx: Db, id: string): Promise<WalletOfferRow | undefined> {
  const [row] = await tx<WalletOfferRow[]>`select ${columns(tx)} from wallet_offers where id = ${id} for update`
  return row
}

/** Counts one failed attempt (a wrong transaction code or proof), atomically; returns the new count. */
export async function countFailedAttempt (sql: Db, offerId: string): Promise<number> {
  const [row] = await sql<Array<{ failedAttempts: number }>>`
    update wallet_offers set failed_attempts = failed_attempts + 1 where id = ${offerId}
    returning failed_attempts as "failedAttempts"`
  return row?.failedAttempts ?? 0
}

/** The offer's VC API challenge: the first one set wins (two wallets asking at once get the same). */
export async function setVcapiChallengeOnce (sql: Db, offerId: string, challenge: string): Promise<string> {
  const [row] = await sql<Array<{ challenge: string }>>`
    update wallet_offers set vcapi_challenge = coalesce(vcapi_challenge, ${challenge}) where id = ${offerId}
    returning vcapi_challenge as challenge`
  return row?.challenge ?? challenge
}

export async function markWalletOfferDelivered (tx: Db, id: string, delivered: { at: Date, version: number, protocol: 'vcapi' | 'oid4vci', did: string }): Promise<void> {
  await tx`
    update wallet_offers set delivered_at = ${delivered.at}, delivered_version = ${delivered.version},
      delivered_protocol = ${delivered.protocol}, subject_did = ${delivered.did}, access_token_hash = null
    where id = ${id}`
}

/** Offers made for one credential in a window: what the per-badge limit counts. */
export async function countRecentOffers (sql: Db, credentialId: string, since: Date): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from wallet_offers where credential_id = ${credentialId} and created_at >= ${since}`
  return row?.n ?? 0
}

/** Drops offers that expired more than a day ago (the scheduled purge). */
export async function purgeWalletOffers (sql: Db, before: Date): Promise<number> {
  const rows = await sql`delete from wallet_offers where expires_at < ${before} returning id`
  return rows.length
}
