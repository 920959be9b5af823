/**
 * One POST /api/v1/credentials/batch of N items (JSON and CSV) over real HTTP
 * against a real PostgreSQL, with one webhook subscribed: each batch's
 * transaction also writes its events' webhook deliveries, emails and their
 * jobs (the workers are off: bench/outbox.ts measures the drain). Prints the
 * wall time and what was written; asserts nothing.
 *   npx tsx bench/batch-issue.ts [items=1000]
 */
import { ACHIEVEMENT, post, startBenchService } from './harness.js'

const count = Number(process.argv[2] ?? 1000)
const service = await startBenchService()
const { app, address, headers, close } = service
// The harness's achievement is missing when its request met the load shedding.
const achievementId = service.achievementId ?? ((await (await post(`${address}/api/v1/achievements`, headers, ACHIEVEMENT)).json()) as { id: string }).id
const hook = await post(`${address}/api/v1/webhooks`, headers, { url: 'https://crm.example.org/hooks', events: ['credential.issued'] })
if (hook.status !== 201) throw new Error(`the webhook was refused: ${hook.status}`)

async function run (label: string, body: string, contentType: string): Promise<void> {
  const started = performance.now()
  const response = await fetch(`${address}/api/v1/credentials/batch`, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body })
  const result = await response.json() as { summary: { created: number, failed: number } }
  const seconds = (performance.now() - started) / 1000
  if (response.status !== 207) throw new Error(`status ${response.status}`)
  console.log(`${label}: ${count} items in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)} credentials/s), created ${result.summary.created}, failed ${result.summary.failed}`)
}

const items = Array.from({ length: count }, (_, i) => ({ achievementId, recipient: { name: `Json Person ${i}`, email: `json${i}@example.com` } }))
await run('JSON batch', JSON.stringify({ items }), 'application/json')
const csv = 'achievementId,name,email\n' + Array.from({ length: count }, (_, i) => `${achievementId},Csv Person ${i},csv${i}@example.com`).join('\n')
await run('CSV batch', csv, 'text/csv')
const [written] = await app.sql`
  select (select count(*)::int from webhook_deliveries) as deliveries, (select count(*)::int from email_notifications) as emails,
    (select count(*)::int from pgboss.job where name in ('webhook-deliver', 'email-send')) as jobs, (select count(*)::int from pgboss.job where name = 'event-fan-out') as "fanOutJobs"`
console.log(`written with the credentials: ${written?.deliveries} webhook deliveries, ${written?.emails} emails, ${written?.jobs} jobs for them (fan-out jobs: ${written?.fanOutJobs})`)
await close()
