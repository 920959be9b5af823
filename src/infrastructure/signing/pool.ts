import { Piscina } from 'piscina'
import runTask, { type Task } from './tasks.js'

/**
 * Data Integrity signing and verification on worker threads (piscina), so
 * that JSON-LD canonicalisation runs beside the event loop and the event loop stays free
 * for I/O. One pool per process, made by the first app that asks for it;
 * idle threads do not keep the process alive. Without a pool (0 threads, or
 * before any app configured one) tasks run inline.
 */
let pool: Piscina | undefined

// From the TypeScript sources (npm start, tests) the threads start on a small
// JavaScript entry that registers tsx; the build (dist/*.js) needs nothing.
const TASKS_FILE = new URL(import.meta.url.endsWith('.ts') ? './dev-thread.mjs' : './tasks.js', import.meta.url).href

export function configureDataIntegrityThreads (threads: number, heapMb: number): void {
  if (threads <= 0 || pool !== undefined) return
  pool = new Piscina({
    filename: TASKS_FILE,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 30_000,
    // Each thread holds its own JSON-LD contexts and caches; capped so that memory stays bounded.
    resourceLimits: { maxOldGenerationSizeMb: heapMb }
  })
  // A thread that cannot start or dies fails its task (the request reports it); it must not take the process down.
  pool.on('error', (error: unknown) => { process.emitWarning(`Data Integrity thread failed: ${String(error)}`) })
}

export async function runDataIntegrity<T> (task: Task): Promise<T> {
  return (pool === undefined ? await runTask(task) : await pool.run(task)) as T
}

/** Threads running now (for tests and the bench). */
export const dataIntegrityThreads = (): number => pool?.threads.length ?? 0
