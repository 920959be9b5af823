import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'
import { ADMIN_KEY, BASE_URL, type TestApp } from './build-app.js'

const INSTANCE = new URL('./instance-process.ts', import.meta.url).pathname

/**
 * Starts another instance of the service in a process of its own
 * (instance-process.ts) with A's settings: its database, DATA_DIR and keys,
 * as a second replica behind a load balancer. Returns its base URL; stopped
 * in teardown. `changesChannel` makes its change feed listen elsewhere.
 */
export async function startSecondInstance (t: Test, a: TestApp, options: { publicBaseUrl?: string, changesChannel?: string } = {}): Promise<string> {
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    PUBLIC_BASE_URL: options.publicBaseUrl ?? BASE_URL,
    DATABASE_URL: a.config.databaseUrl ?? '',
    DATA_DIR: a.dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ISSUER_NAME: a.config.issuer.name,
    ...(a.config.issuer.url !== undefined ? { ISSUER_URL: a.config.issuer.url } : {}),
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    RATE_LIMIT_LOOKUP_PER_MINUTE: '1000000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    WORKER: 'off',
    DATA_INTEGRITY_THREADS: '0',
    ...(options.changesChannel !== undefined ? { TEST_CHANGES_CHANNEL: options.changesChannel } : {})
  }
  const child = spawn(process.execPath, ['--import', 'tsx', INSTANCE], { env, stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  t.teardown(async () => {
    child.stdin.end()
    await exited
  })
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => { reject(new Error(`the second instance exited (${String(code)}) before listening`)) })
  })
  return `http://127.0.0.1:${(JSON.parse(first) as { port: number }).port}`
}
