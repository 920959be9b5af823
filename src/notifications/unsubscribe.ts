import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/types.js'

/**
 * Signed unsubscribe links: no account needed. The token is an HMAC of the
 * credential id under a secret the service makes for itself once, kept in
 * the database so every instance signs and checks alike.
 */
const secrets = new WeakMap<object, Buffer>()

async function unsubscribeSecret (sql: Db): Promise<Buffer> {
  const cached = secrets.get(sql)
  if (cached !== undefined) return cached
  await sql`insert into service_secrets (name, secret) values ('unsubscribe-links', ${randomBytes(32)}) on conflict (name) do nothing`
  const [row] = await sql<Array<{ secret: Buffer }>>`select secret from service_secrets where name = 'unsubscribe-links'`
  if (row === undefined) throw new Error('the unsubscribe secret could not be read')
  secrets.set(sql, row.secret)
  return row.secret
}

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
