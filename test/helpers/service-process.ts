import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { freshDatabase } from './database.js'
import { freePort } from './free-port.js'
import { installTestKeys } from './test-keys.js'

export interface ServiceProcess {
  child: ChildProcess
  /** http://127.0.0.1:<port>, also its PUBLIC_BASE_URL. */
  base: string
  /** Its database (a fresh one, dropped in teardown), for the test to look into. */
  db: Awaited<ReturnType<typeof freshDatabase>>
  /** All it has written to stdout and stderr so far. */
  log: () => string
  /** How it ended, once its output has ended too (so `log()` then holds every line). */
  closed: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * The service in a process of its own, as a deployment runs it: `node
 * <nodeArgs>` (the production build's command, or the sources through tsx),
 * on a fresh database, with the run's keys where it looks for them
 * (DATA_DIR/keys, so it generates none), on a free loopback port, with the
 * environment a deployment sets (nothing inherited but PATH and HOME) plus
 * `env`. Resolves once it is ready: /health answers 200, or, with
 * `readyWhenLogged`, its log says so (a cluster's primary, once every HTTP
 * process listens). Teardown kills what is still running and drops the database.
 */
export async function startServiceProcess (t: Test, options: { nodeArgs: string[], cwd?: string, adminKey: string, env: Record<string, string>, readyWhenLogged?: RegExp }): Promise<ServiceProcess> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'tessera-service-'))
  const db = await freshDatabase()
  // Teardown is registered before the process exists, so a failed start still drops the database.
  const holder: { child?: ChildProcess } = {}
  t.teardown(async () => {
    const { child } = holder
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    await db.drop()
    await rm(work, { recursive: true, force: true })
  })
  await mkdir(path.join(work, 'data'))
  await installTestKeys(path.join(work, 'data', 'keys'), 'main')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = holder.child = spawn(process.execPath, options.nodeArgs, {
    cwd: options.cwd ?? work,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: base,
      DATABASE_URL: db.url,
      DATA_DIR: path.join(work, 'data'),
      ADMIN_API_KEY: options.adminKey,
      ...options.env
    }
  })
  let log = ''
  child.stdout?.on('data', (d: Buffer) => { log += d.toString('utf8') })
  child.stderr?.on('data', (d: Buffer) => { log += d.toString('utf8') })
  const closed = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => { resolve({ code, signal }) }))
  // Three minutes: tsx compiles the sources in each process, slow on a busy machine.
  for (const deadline = Date.now() + 180_000; ;) {
    if (options.readyWhenLogged !== undefined ? options.readyWhenLogged.test(log) : (await fetch(`${base}/health`).catch(() => undefined))?.status === 200) break
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw new Error(`the service did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, base, db, log: () => log, closed }
}
