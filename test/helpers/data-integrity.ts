import tap from 'tap'
import { openDataIntegrity, type DataIntegrity } from '../../src/infrastructure/signing/pool.js'

let shared: DataIntegrity | undefined

/**
 * One Data Integrity pool per test file, owned by the file and closed when it
 * ends, for the apps build() makes: a thread started from the TypeScript
 * sources costs about 0.75 s of CPU, and a file builds many apps. An app
 * given DATA_INTEGRITY_THREADS in its env opens its own, as in production.
 */
export function testDataIntegrity (env: Record<string, string> = {}): { dataIntegrity?: DataIntegrity } {
  if (env.DATA_INTEGRITY_THREADS !== undefined) return {}
  if (shared === undefined) {
    const pool = shared = openDataIntegrity({ threads: 1, heapMb: 96, onError: (error) => { tap.comment(`Data Integrity thread failed: ${String(error)}`) } })
    tap.teardown(async () => { await pool.close() })
  }
  return { dataIntegrity: shared }
}
