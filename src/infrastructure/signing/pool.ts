import { Piscina } from 'piscina'
import { createTaskRunner, type Task } from './tasks.js'

/**
 * Where Data Integrity work (JSON-LD canonicalisation, signing, proof checks)
 * runs: on worker threads (piscina), so that the event loop stays free for
 * I/O, or inline. The app (or a command) that opens one owns it and closes it;
 * two apps in one process each have their own, with their own settings.
 */
export interface DataIntegrity {
  run: <T>(task: Task) => Promise<T>
  /** Threads running now (0 inline; for tests and the bench). */
  readonly threads: number
  /** Ends the threads once the tasks in hand are done. */
  close: () => Promise<void>
}

// From the TypeScript sources (npm start, tests) the threads start on a small
// JavaScript entry that registers tsx; the build (dist/*.js) needs nothing.
const THREAD_FILE = new URL(import.meta.url.endsWith('.ts') ? './dev-thread.mjs' : './thread.js', import.meta.url).href

/** Runs every task on the calling thread, with signers of its own. */
export function inlineDataIntegrity (): DataIntegrity {
  const run = createTaskRunner()
  return { run: async <T>(task: Task) => await run(task) as T, threads: 0, close: async () => {} }
}

export interface DataIntegrityOptions {
  /** At most this many threads; 0 runs the tasks inline. */
  threads: number
  /** Each thread's old-generation heap: it holds its own JSON-LD contexts and signers. */
  heapMb: number
  /** A thread that cannot start or dies fails its task (the request reports it); this hears about it. */
  onError: (error: unknown) => void
}

/**
 * Opens a pool of Data Integrity threads (one kept ready, more up to
 * `threads` under load, ending after 30 s idle), or an inline runner when
 * `threads` is 0.
 */
export function openDataIntegrity (options: DataIntegrityOptions): DataIntegrity {
  if (options.threads <= 0) return inlineDataIntegrity()
  const pool = new Piscina({
    filename: THREAD_FILE,
    minThreads: 1,
    maxThreads: options.threads,
    idleTimeout: 30_000,
    resourceLimits: { maxOldGenerationSizeMb: options.heapMb }
  })
  // It must not take the process down.
  pool.on('error', options.onError)
  return {
    run: async <T>(task: Task) => await pool.run(task) as T,
    get threads () { return pool.threads.length },
    close: async () => { await pool.close() }
  }
}
