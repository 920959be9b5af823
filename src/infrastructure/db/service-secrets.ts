import { randomBytes } from 'node:crypto'
import type { Db } from './types.js'

const cache = new WeakMap<object, Map<string, Buffer>>()

/**
 * A secret the service makes for itself once and keeps in the database, so
 * that every instance signs and checks alike (unsubscribe links, portal
 * cookies). Created on first use; cached per pool.
 */
export async function serviceSecret (sql: Db, name: string): Promise<Buffer> {
  let secrets = cache.get(sql)
  if (secrets === undefined) cache.set(sql, secrets = new Map())
  const cached = secrets.get(name)
  if (cached !== undefined) return cached
  await sql`insert into service_secrets (name, secret) values (${name}, ${randomBytes(32)}) on conflict (name) do nothing`
  const [row] = await sql<Array<{ secret: Buffer }>>`select secret from service_secrets where name = ${name}`
  if (row === undefined) throw new Error(`the service secret "${name}" could not be read`)
  secrets.set(name, row.secret)
  return row.secret
}
