import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'

/**
 * Cache invalidation across instances: a transaction that changes a served
 * document announces it with NOTIFY, which PostgreSQL delivers to every
 * listening instance when (and only if) the transaction commits. Keys are
 * `credential:<id>` (a new current version) and `status-list:<id>` (re-signed).
 *
 * The announcing process also drops the key from its own caches at once,
 * before commit, so that a request it serves after the change returns is
 * never answered from the old copy (a read racing the commit cannot store the
 * old copy for long: the NOTIFY follows the commit). Other instances drop it
 * when the NOTIFY arrives, a few milliseconds after commit.
 */
export const CHANGES_CHANNEL = 'tessera_changes'

const localListeners = new Set<(key: string) => void>()

export async function announceChange (tx: Db, key: string): Promise<void> {
  for (const listener of localListeners) listener(key)
  await tx`select pg_notify(${CHANGES_CHANNEL}, ${key})`
}

/**
 * Listens on its own connection. `onReset` runs on every (re)connection:
 * notifications sent while disconnected are lost, so caches start over.
 */
export async function listenForChanges (sql: Sql, onChange: (key: string) => void, onReset: () => void): Promise<{ close: () => Promise<void> }> {
  localListeners.add(onChange)
  const listening = await sql.listen(CHANGES_CHANNEL, onChange, onReset)
  return {
    close: async () => {
      localListeners.delete(onChange)
      // The pool may already be ended (its listening connection with it): nothing left to undo.
      await listening.unlisten().catch(() => {})
    }
  }
}
