/**
 * Issuing through the staff API for the benches (achievements, single credentials,
 * batches of 1,000) and waiting for the holders' issue emails to be done, which is how the
 * bench sees the notification backlog drain.
 */
import type { Sql } from 'postgres'
import { adminHeaders } from './service.js'

export const post = async (base: string, url: string, body: unknown): Promise<any> => {
  const response = await fetch(`${base}${url}`, { method: 'POST', headers: adminHeaders, body: JSON.stringify(body) })
  const json = await response.json()
  if (!response.ok && response.status !== 207) throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json).slice(0, 500)}`)
  return json
}

export async function createAchievement (base: string): Promise<{ id: string }> {
  return await post(base, '/api/v1/achievements', { name: 'CMA (AAMA)', description: 'Certified Medical Assistant (AAMA).', criteria: { narrative: 'Passed the exam.' }, achievementType: 'Certification', validityMonths: 60 })
}

export interface BatchOutcome { created: number, failed: number, credentials: unknown[] }

/**
 * Issues `count` credentials in batches of `size` (POST /api/v1/credentials/batch), `parallel`
 * batches in flight at once; keeps the signed credentials only when `keep` (memory).
 */
export async function issueInBatches (base: string, achievementId: string, count: number, options: { size?: number, parallel?: number, keep?: boolean, prefix?: string, onBatch?: (done: number) => void } = {}): Promise<BatchOutcome> {
  const size = options.size ?? 1000
  const outcome: BatchOutcome = { created: 0, failed: 0, credentials: [] }
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next
      next = Math.min(count, next + size)
      const items = Array.from({ length: next - from }, (_, i) => ({ achievementId, recipient: { name: `Holder ${from + i}`, email: `${options.prefix ?? 'holder'}${from + i}@example.org` } }))
      const result = await post(base, '/api/v1/credentials/batch', { items }) as { results: Array<{ credential?: unknown }> }
      for (const r of result.results) {
        if (r.credential === undefined) outcome.failed++
        else {
          outcome.created++
          if (options.keep === true) outcome.credentials.push(r.credential)
        }
      }
      done += items.length
      options.onBatch?.(done)
    }
  }
  await Promise.all(Array.from({ length: options.parallel ?? 1 }, worker))
  return outcome
}

/** Issue emails done (sent or deliberately skipped) so far. */
export async function emailsDone (sql: Sql): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from email_notifications where state <> 'pending'`
  return row?.n ?? 0
}

/**
 * Waits until `expected` emails are done, up to `maxSeconds`; returns how many are still
 * missing (0 when drained).
 */
export async function waitForEmails (sql: Sql, expected: number, maxSeconds: number): Promise<number> {
  const deadline = performance.now() + maxSeconds * 1000
  for (;;) {
    const missing = expected - await emailsDone(sql)
    if (missing <= 0 || performance.now() > deadline) return Math.max(0, missing)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Waits until no email is pending (the backlog left by earlier scenarios), up to `maxSeconds`; returns how many still are. */
export async function waitForNoPendingEmails (sql: Sql, maxSeconds: number): Promise<number> {
  const deadline = performance.now() + maxSeconds * 1000
  for (;;) {
    const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from email_notifications where state = 'pending'`
    const pending = row?.n ?? 0
    if (pending === 0 || performance.now() > deadline) return pending
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
