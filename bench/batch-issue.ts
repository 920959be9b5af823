/**
 * One POST /api/v1/credentials/batch of N items (JSON and CSV) over real HTTP
 * against a real PostgreSQL. Prints the wall time; asserts nothing.
 *   npx tsx bench/batch-issue.ts [items=1000]
 */
import { startBenchService } from './harness.js'

const count = Number(process.argv[2] ?? 1000)
const { address, headers, achievementId, close } = await startBenchService()

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
await close()
