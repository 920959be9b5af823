/**
 * A real service for benches: the app listening on a random port over a real
 * PostgreSQL (embedded unless DATABASE_URL is set), with one achievement.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildApp } from '../src/app.js'
import { prepareService } from '../src/boot.js'
import { loadConfig } from '../src/kernel/config.js'
import { connect } from '../src/infrastructure/db/connect.js'
import { startEmbeddedPostgres } from '../src/infrastructure/db/embedded.js'
import { migrateDatabase } from '../src/infrastructure/db/migrate.js'

export interface BenchService {
  address: string
  headers: Record<string, string>
  achievementId: string
  close: () => Promise<void>
}

export async function startBenchService (env: Record<string, string> = {}): Promise<BenchService & { app: Awaited<ReturnType<typeof buildApp>>, config: ReturnType<typeof loadConfig> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-'))
  const embedded = process.env.DATABASE_URL === undefined ? await startEmbeddedPostgres(path.join(dir, 'pg'), { throwaway: true }) : undefined
  const adminKey = 'bench-admin-key-0123456789abcdefghijklmnopq'
  const databaseUrl = process.env.DATABASE_URL ?? embedded?.url ?? ''
  // WORKER=off: the figures are the HTTP service's (events are still recorded in each
  // transaction; bench/outbox.ts measures their delivery).
  const config = loadConfig({ DATABASE_URL: databaseUrl, DATA_DIR: dir, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'silent', PORT: '0', WORKER: 'off', ...env })
  await migrateDatabase(databaseUrl)
  const sql = connect(databaseUrl)
  const keyRing = await prepareService(config, sql, { info: () => {}, warn: () => {} })
  const app = await buildApp({ config, sql, keyRing, ...(config.logLevel === 'silent' ? { logger: false } : {}) })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }
  const achievement = await (await fetch(`${address}/api/v1/achievements`, {
    method: 'POST', headers, body: JSON.stringify({ name: 'CMA (AAMA)', description: 'd', criteria: { narrative: 'n' }, achievementType: 'Certification', validityMonths: 60 })
  })).json() as { id: string }
  return {
    app,
    config,
    address,
    headers,
    achievementId: achievement.id,
    close: async () => {
      await app.close()
      await sql.end()
      await embedded?.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** A POST retried while the service's load shedding answers 503 (right after boot on a busy machine). */
export async function post (url: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  for (let tries = 0; ; tries++) {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
    if (response.status !== 503 || tries >= 20) return response
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/** The achievement the benches issue. */
export const ACHIEVEMENT = { name: 'CMA (AAMA)', description: 'd', criteria: { narrative: 'n' }, achievementType: 'Certification', validityMonths: 60 }
