/**
 * Issuing throughput over real HTTP against a real PostgreSQL (embedded unless
 * DATABASE_URL is set). Prints figures; asserts nothing.
 *   npx tsx bench/issue.ts [count=300] [concurrency=8]
 */
import { startBenchService } from './harness.js'

const count = Number(process.argv[2] ?? 300)
const concurrency = Number(process.argv[3] ?? 8)
const { address, headers, achievementId, close } = await startBenchService()

const latencies: number[] = []
let next = 0
async function worker (): Promise<void> {
  while (next < count) {
    const i = next++
    const started = performance.now()
    const response = await fetch(`${address}/api/v1/credentials`, { method: 'POST', headers, body: JSON.stringify({ achievementId, recipient: { name: `P${i}`, email: `p${i}@example.com` } }) })
    if (response.status !== 201) throw new Error(`status ${response.status}: ${await response.text()}`)
    await response.arrayBuffer()
    latencies.push(performance.now() - started)
  }
}
const wall = performance.now()
await Promise.all(Array.from({ length: concurrency }, worker))
const seconds = (performance.now() - wall) / 1000
latencies.sort((a, b) => a - b)
const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1)
console.log(`issued ${count} credentials over HTTP, concurrency ${concurrency}`)
console.log(`throughput ${(count / seconds).toFixed(0)} credentials/s; latency ms p50 ${pct(0.5)} p90 ${pct(0.9)} p99 ${pct(0.99)}`)
await close()
