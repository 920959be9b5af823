/**
 * Issuing throughput over real HTTP against a real PostgreSQL (embedded unless
 * DATABASE_URL is set). Prints figures; asserts nothing.
 *   npx tsx bench/issue.ts [count=300] [concurrency=8]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildApp } from '../src/app.js'
import { prepareService } from '../src/boot.js'
import { loadConfig } from '../src/config.js'
import { connect } from '../src/db/connect.js'
import { startEmbeddedPostgres } from '../src/db/embedded.js'

const count = Number(process.argv[2] ?? 300)
const concurrency = Number(process.argv[3] ?? 8)
const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'))
const embedded = process.env.DATABASE_URL === undefined ? await startEmbeddedPostgres(path.join(dir, 'pg'), { throwaway: true }) : undefined
const adminKey = 'bench-admin-key-0123456789abcdefghijklmnopq'
const config = loadConfig({ DATABASE_URL: process.env.DATABASE_URL ?? embedded!.url, DATA_DIR: dir, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'silent', PORT: '0' })
const sql = connect(config.databaseUrl!)
const keyRing = await prepareService(config, sql, { info: () => {}, warn: () => {} })
const app = await buildApp({ config, sql, keyRing, logger: false })
const address = await app.listen({ port: 0, host: '127.0.0.1' })
const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }

const achievement = await (await fetch(`${address}/api/v1/achievements`, {
  method: 'POST', headers, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'd', criteria: { narrative: 'n' }, achievementType: 'Certification', validityMonths: 60 })
})).json() as { id: string }

const latencies: number[] = []
let next = 0
async function worker (): Promise<void> {
  while (next < count) {
    const i = next++
    const started = performance.now()
    const response = await fetch(`${address}/api/v1/credentials`, { method: 'POST', headers, body: JSON.stringify({ achievementId: achievement.id, recipient: { name: `P${i}`, email: `p${i}@example.com` } }) })
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
await app.close()
await sql.end()
await embedded?.stop()
await rm(dir, { recursive: true, force: true })
