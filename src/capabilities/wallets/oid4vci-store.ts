import type { Db } from '../../infrastructure/db/types.js'

/**
 * The OID4VCI steps that must be atomic in PostgreSQL (any instance answers
 * any step, and two wallets may race on one offer).
 */

/**
 * Exchanges a pre-authorised code for an access token, once: the code's hash
 * is cleared in the same statement that checks it is still there, so of two
 * concurrent token requests only one gets a row back.
 */
export async function redeemPreAuthorizedCode (sql: Db, offerId: string, codeHash: string, token: { hash: string, expiresAt: Date }): Promise<boolean> {
  const rows = await sql`
    update wallet_offers set pre_authorized_code_hash = null, access_token_hash = ${token.hash}, access_token_expires_at = ${token.expiresAt}
    where id = ${offerId} and pre_authorized_code_hash = ${codeHash} and delivered_at is null
    returning id`
  return rows.length === 1
}
