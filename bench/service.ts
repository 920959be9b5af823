/**
 * The service as production runs it, in processes of its own: built once (`npm run build`),
 * started with package.json's start:prod command (node with its heap cap, dist/server.js),
 * which may run several processes (WEB_CONCURRENCY) with worker threads. The bench reaches
 * it only over HTTP and reads its processes' CPU and memory from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { freePort } from '../src/infrastructure/db/embedded.js'
import { isAlive, memory, processTree, type Memory } from './proc.js'

export const ADMIN_KEY = 'bench-admin-key-0123456789abcdefghijklmnopq'
export const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }

/** Compiles the service (tsc -p tsconfig.build.json): the bench measures dist/, not tsx. */
export function buildService (): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}

export interface RunningService {
  readonly base: string
  readonly port: number
  readonly pid: number
  /** The service's processes now: the one started and everything under it (cluster workers). */
  pids: (maxAgeMs?: number) => number[]
  /** Memory (VmRSS, VmHWM) of each process seen so far, the gone ones at their last reading. */
  peaks: (maxAgeMs?: number) => Memory[]
  /** SIGTERM, then waits for every process of the tree to be gone (SIGKILL after `graceMs`). */
  stop: (graceMs?: number) => Promise<string | undefined>
}

export interface ServiceOptions {
  databaseUrl: string
  dataDir: string
  /** WEB_CONCURRENCY; undefined leaves the service's own default (one process per core). */
  processes?: number
  /** A port to listen on again (a restart keeps PUBLIC_BASE_URL, so issued credentials stay its own). */
  port?: number
  env?: Record<string, string>
}

export async function startService (options: ServiceOptions): Promise<RunningService> {
  const port = options.port ?? await freePort()
  const base = `http://127.0.0.1:${port}`
  const startProd = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']?.split(' ').slice(1) ?? ['dist/server.js']
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    // A fresh database: the service migrates it as it starts.
    MIGRATE_ON_BOOT: 'true',
    DATA_DIR: options.dataDir,
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    RATE_LIMIT_LOOKUP_PER_MINUTE: '1000000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    NODE_ENV: 'development',
    ...options.env
  }
  delete env.WEB_CONCURRENCY
  if (options.processes !== undefined) env.WEB_CONCURRENCY = String(options.processes)
  const child: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...startProd], {
    env, stdio: ['ignore', 'inherit', 'inherit']
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('The service did not start (no pid).')
  let exited = false
  child.once('exit', () => { exited = true })
  const seen = new Map<number, Memory>()
  let tree: number[] = []
  let treeAt = 0
  // Finding the tree scans all of /proc (milliseconds of this process's CPU, which counts as
  // the load generator's): samplers may reuse a recent one; CPU meters always look afresh.
  const pids = (maxAgeMs = 0): number[] => {
    if (performance.now() - treeAt > maxAgeMs) {
      tree = processTree(pid)
      treeAt = performance.now()
    }
    // Memory is read at every look, so a process that ends still leaves its last peak.
    for (const p of tree) {
      const m = memory(p)
      if (m !== undefined) seen.set(p, m)
    }
    return tree
  }
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`The service exited during start-up (code ${child.exitCode ?? child.signalCode}).`)
    if (i >= 240) {
      child.kill('SIGKILL')
      throw new Error('The service was not ready after 60 s.')
    }
    try { if ((await fetch(`${base}/ready`)).ok) break } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  // /ready answers once one process listens; a cluster's other children may still be starting.
  // Measuring before they are up would understate several processes: wait until the tree has
  // not changed for 2 s (at most 30 s), then 1 s more for the last one to listen.
  for (let stableSince = performance.now(), last = pids().join(), waited = 0; waited < 30_000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const now = pids().join()
    if (now !== last) { last = now; stableSince = performance.now() } else if (performance.now() - stableSince >= 2000) break
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  let stopped: Promise<string | undefined> | undefined
  return {
    base,
    port,
    pid,
    pids,
    peaks: (maxAgeMs) => { pids(maxAgeMs); return [...seen.values()] },
    stop: async (graceMs = 20_000) => {
      stopped ??= stopTree(graceMs)
      return await stopped
    }
  }

  async function stopTree (graceMs: number): Promise<string | undefined> {
    const all = pids()
    child.kill('SIGTERM')
    const deadline = Date.now() + graceMs
    while (Date.now() < deadline && all.some(isAlive)) await new Promise((resolve) => setTimeout(resolve, 100))
    const left = all.filter(isAlive)
    if (left.length === 0) return undefined
    for (const p of left) { try { process.kill(p, 'SIGKILL') } catch {} }
    return `service processes ${left.join(', ')} still running ${graceMs / 1000} s after SIGTERM: killed`
  }
}
