import type { Db } from '../../infrastructure/db/types.js'

export interface IdempotencyRecord {
  method: string
  path: string
  requestHash: string
  /** Null while the first request is still being served. */
  statusCode: number | null
  responseHeaders: Record<string, string> | null
  responseBody: string | null
}

export interface IdempotencyClaim { actor: string, key: string, method: string, path: string, requestHash: string }

/** Claims a key for a request about to run; false when the key is already held (by a finished or running request). */
export async function claimIdempotencyKey (sql: Db, claim: IdempotencyClaim): Promise<boolean> {
  const rows = await sql`
    insert into idempotency_keys (actor, key, method, path, request_hash)
    values (${claim.actor}, ${claim.key}, ${claim.method}, ${claim.path}, ${claim.requestHash})
    on conflict do nothing returning key`
  return rows.length === 1
}

/**
 * Takes over a key whose request has been in flight for longer than
 * `staleSeconds` (the process serving it died): true when this caller now holds it.
 */
export async function takeOverAbandonedKey (sql: Db, claim: IdempotencyClaim, staleSeconds: number): Promise<boolean> {
  const rows = await sql`
    update idempotency_keys set created_at = now(), method = ${claim.method}, path = ${claim.path}, request_hash = ${claim.requestHash}
    where actor = ${claim.actor} and key = ${claim.key} and completed_at is null
      and created_at < now() - make_interval(secs => ${staleSeconds})
    returning key`
  return rows.length === 1
}

export async function findIdempotencyRecord (sql: Db, actor: string, key: string): Promise<IdempotencyRecord | undefined> {
  const [row] = await sql<IdempotencyRecord[]>`
    select method, path, request_hash as "requestHash", status_code as "statusCode",
      response_headers as "responseHeaders", response_body as "responseBody"
    from idempotency_keys where actor = ${actor} and key = ${key}`
  return row
}

export async function completeIdempotencyKey (sql: Db, actor: string, key: string, response: { statusCode: number, headers: Record<string, string>, body: string }): Promise<void> {
  await sql`
    update idempotency_keys set status_code = ${response.statusCode}, response_headers = ${sql.json(response.headers)},
      response_body = ${response.body}, completed_at = now()
    where actor = ${actor} and key = ${key}`
}

/** Frees a key whose request failed on our side, so the client's retry runs afresh. */
export async function releaseIdempotencyKey (sql: Db, actor: string, key: string): Promise<void> {
  await sql`delete from idempotency_keys where actor = ${actor} and key = ${key} and completed_at is null`
}

export async function purgeIdempotencyKeys (sql: Db, olderThanHours: number): Promise<void> {
  await sql`delete from idempotency_keys where created_at < now() - make_interval(hours => ${olderThanHours})`
}
