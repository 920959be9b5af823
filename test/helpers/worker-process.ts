import { spawn } from 'node:child_process'
import type { Test } from 'tap'
import { ADMIN_KEY, BASE_URL, type TestApp } from './build-app.js'

export interface WorkerProcess {
  /** What it wrote (stdout and stderr), chunk by chunk. */
  logged: string[]
  /** SIGTERM, then its exit code (once; later calls give the same). */
  stop: () => Promise<number | null>
}

/**
 * The job-worker process as production runs it (`npm run worker`,
 * src/worker.ts), on `api`'s database, data folder and keys, with `env` on
 * top (SMTP, schedules, job timings); stopped in teardown if the test has not.
 */
export function startWorkerProcess (t: Test, api: TestApp, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../../src/worker.ts', import.meta.url).pathname], {
    env: {
      PATH: process.env.PATH ?? '',
      PUBLIC_BASE_URL: BASE_URL,
      DATABASE_URL: api.config.databaseUrl ?? '',
      DATA_DIR: api.dataDir,
      ADMIN_API_KEY: ADMIN_KEY,
      ISSUER_NAME: api.config.issuer.name,
      LOG_LEVEL: 'warn',
      DATA_INTEGRITY_THREADS: '0',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logged: string[] = []
  child.stdout.on('data', (chunk: Buffer) => { logged.push(chunk.toString('utf8')) })
  child.stderr.on('data', (chunk: Buffer) => { logged.push(chunk.toString('utf8')) })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', resolve) })
  const stop = async (): Promise<number | null> => {
    child.kill('SIGTERM')
    return await exited
  }
  t.teardown(stop)
  return { logged, stop }
}
