import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'
import { changesSince, logAndNotify } from './change-log-store.js'

// The shapes of change-feed.ts's ChangeHandlers and ChangeFeed, spelled out: that module opens this one.
interface Handlers { onChange: (key: string) => void, onReset: () => void }
interface PolledFeed { announce: (tx: Db, key: string) => Promise<void>, close: () => Promise<void> }

export interface PollingOptions {
  /** Pause between polls (default 1000 ms): the longest another instance's change takes to reach this one. */
  intervalMs?: number
}

/**
 * A change feed without LISTEN, for instances behind a pooler in transaction
 * mode with no direct URL: every `intervalMs` one statement reads the change
 * log (change_log) from where the previous read left off. "Where it left off"
 * is a transaction id, not a sequence number: a transaction that took seq 10
 * can commit after one that took seq 11, and a "seq > last" poll would skip
 * it. Each poll instead asks for the rows of every transaction that had not
 * finished at the previous poll, and skips the ones it has already handled
 * (remembered until their transaction is older than every running one).
 *
 * Announcing drops the key from this app's caches at once and writes the
 * change (NOTIFY too, for listening instances); the poll hears it again after
 * commit, which drops a copy a read racing the commit may have stored.
 * After a failed poll (the database was away) the caches start over, as a
 * LISTEN reconnection does.
 */
export async function openPolledChangeFeed (sql: Sql, handlers: Handlers, channel: string, options: PollingOptions = {}): Promise<PolledFeed> {
  const intervalMs = options.intervalMs ?? 1000
  let since: bigint | undefined
  // seq -> xid of the changes handled whose transaction may still be seen by the next poll.
  const handled = new Map<string, bigint>()
  let failed = false
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> = Promise.resolve()

  const poll = async (first: boolean): Promise<void> => {
    try {
      const { xmin, changes } = await changesSince(sql, channel, since)
      if (failed) {
        failed = false
        handlers.onReset()
      }
      for (const change of changes) {
        if (handled.has(change.seq)) continue
        handled.set(change.seq, change.xid)
        handlers.onChange(change.key)
      }
      for (const [seq, xid] of handled) if (xid < xmin) handled.delete(seq)
      since = xmin
    } catch (error) {
      if (first) throw error
      failed = true
    }
  }
  const schedule = (): void => {
    if (closed) return
    timer = setTimeout(() => {
      inFlight = poll(false).finally(schedule)
    }, intervalMs)
    timer.unref()
  }

  // The first poll runs now: a database that cannot be read fails the open, as LISTEN does.
  await poll(true)
  handlers.onReset()
  schedule()
  return {
    announce: async (tx, key) => {
      handlers.onChange(key)
      await logAndNotify(tx, channel, key)
    },
    close: async () => {
      closed = true
      clearTimeout(timer)
      await inFlight.catch(() => {})
    }
  }
}
