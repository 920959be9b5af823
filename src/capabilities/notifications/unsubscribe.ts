import { createHmac, timingSafeEqual } from 'node:crypto'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import type { Db } from '../../infrastructure/db/types.js'

/**
 * Signed unsubscribe links: no account needed. The token is an HMAC of the
 * credential id under a secret the service makes for itself once, kept in
 * the database so every instance signs and checks alike.
 */
const unsubscribeSecret = async (sql: Db): Promise<Buffer> => await serviceSecret(sql, 'unsubscribe-links')

const sign = (secret: Buffer, credentialId: string): string =>
  createHmac('sha256', secret).update(`unsubscribe:${credentialId}`).digest('base64url').slice(0, 32)

export async function unsubscribeToken (sql: Db, credentialId: string): Promise<string> {
  return sign(await unsubscribeSecret(sql), credentialId)
}

export async function isUnsubscribeToken (sql: Db, credentialId: string, token: string): Promise<boolean> {
  const expected = Buffer.from(sign(await unsubscribeSecret(sql), credentialId))
  const given = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export async function optOutOfReminders (sql: Db, credentialId: string, now: Date): Promise<void> {
  await sql`update credentials set reminders_opted_out_at = coalesce(reminders_opted_out_at, ${now}) where id = ${credentialId}`
}
