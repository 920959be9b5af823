import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'

/**
 * Cache invalidation across instances: a transaction that changes a served
 * document announces it with NOTIFY, which PostgreSQL delivers to every
 * listening instance when (and only if) the transaction commits. Keys are
 * `credential:<id>` (a new current version) and `status-list:<id>` (re-signed).
 *
 * Each app opens its own feed (its own LISTEN, its own handlers) and closes
 * it with itself. An app announcing through its feed also drops the key from
 * its own caches at once, before commit, so that a request it serves after
 * the change returns is never answered from the old copy (a read racing the
 * commit cannot store the old copy for long: the NOTIFY follows the commit).
 * Every other app, in this process or another, hears of it only through
 * PostgreSQL, a few milliseconds after commit.
 */
export const CHANGES_CHANNEL = 'tessera_changes'

/** How a change is announced inside a transaction. */
export interface ChangeAnnouncer {
  announce: (tx: Db, key: string) => Promise<void>
}

export interface ChangeFeed extends ChangeAnnouncer {
  /** Stops listening (the pool may already be ended). */
  close: () => Promise<void>
}

export interface ChangeHandlers {
  onChange: (key: string) => void
  /** Runs on every (re)connection: notifications sent while disconnected are lost, so caches start over. */
  onReset: () => void
}

/**
 * Announces a change in `tx` through `changes` (an app's feed), or, for a
 * caller that keeps no caches of its own (a command), by NOTIFY alone.
 */
export async function announceChange (tx: Db, key: string, changes?: ChangeAnnouncer): Promise<void> {
  if (changes !== undefined) await changes.announce(tx, key)
  else await tx`select pg_notify(${CHANGES_CHANNEL}, ${key})`
}

/**
 * Listens on `channel` (every instance of a deployment shares CHANGES_CHANNEL;
 * tests pass another to show what an instance misses without the NOTIFY).
 */
export async function openChangeFeed (sql: Sql, handlers: ChangeHandlers, channel = CHANGES_CHANNEL): Promise<ChangeFeed> {
  const listening = await sql.listen(channel, handlers.onChange, handlers.onReset)
  return {
    announce: async (tx, key) => {
      handlers.onChange(key)
      await tx`select pg_notify(${channel}, ${key})`
    },
    close: async () => {
      // The pool may already be ended (its listening connection with it): nothing left to undo.
      await listening.unlisten().catch(() => {})
    }
  }
}
