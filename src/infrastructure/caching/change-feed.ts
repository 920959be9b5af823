import type { Sql } from 'postgres'
import { connect } from '../db/connect.js'
import type { Db } from '../db/types.js'
import { logAndNotify, pruneChangeLog } from './change-log-store.js'
import { openPolledChangeFeed } from './polled-change-feed.js'

/**
 * Cache invalidation across instances: a transaction that changes a served
 * document announces it with NOTIFY, which PostgreSQL delivers to every
 * listening instance when (and only if) the transaction commits. Keys are
 * `credential:<id>` (a new current version), `status-list:<id>` (re-signed),
 * the signing keys' and the issuer registry's, and `jobs-added:<queues>` (the
 * job queue's: its workers fetch at once, jobs/job-queue.ts).
 *
 * Each app opens its own feed (its own LISTEN, its own handlers) and closes
 * it with itself. An app announcing through its feed also drops the key from
 * its own caches at once, before commit, so that a request it serves after
 * the change returns is never answered from the old copy (a read racing the
 * commit cannot store the old copy for long: the NOTIFY follows the commit).
 * Every other app, in this process or another, hears of it only through
 * PostgreSQL, a few milliseconds after commit.
 *
 * Every change is also written to the change log (change_log) in the same
 * statement, for instances that cannot LISTEN (behind a pooler in transaction
 * mode without a direct URL: openChangeFeedFor): they poll it, and hear of a
 * change within the poll interval.
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
 * caller that keeps no caches of its own (a command), by NOTIFY and the
 * change log alone (polling instances hear a command's changes too).
 */
export async function announceChange (tx: Db, key: string, changes?: ChangeAnnouncer): Promise<void> {
  if (changes !== undefined) await changes.announce(tx, key)
  else await logAndNotify(tx, CHANGES_CHANNEL, key)
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
      await logAndNotify(tx, channel, key)
    },
    close: async () => {
      // The pool may already be ended (its listening connection with it): nothing left to undo.
      await listening.unlisten().catch(() => {})
    }
  }
}

/** How long a logged change is kept: far past the poll interval; a poller away longer starts its caches over anyway. */
const CHANGE_LOG_RETENTION_SECONDS = 300
/**
 * How often each feed prunes, and at most how many rows at a time: bounded
 * work per round, 40,000 rows a minute per process, past what a batch issues
 * (a longer backlog is taken by the following rounds).
 */
const PRUNE_EVERY_MS = 15_000
const PRUNE_LIMIT = 10_000

export interface ChangeFeedOptions {
  /** The polling feed's pause between polls (default 1000 ms). */
  pollIntervalMs?: number
}

/**
 * The change feed a process's configuration allows, opened on its pool `sql`:
 * - DATABASE_DIRECT_URL set: LISTEN on a dedicated connection (one, outside
 *   the pool) to that URL, closed with the feed; changes are announced
 *   through the pool as always (NOTIFY is transactional, a pooler passes it);
 * - a direct DATABASE_URL (no pooler): LISTEN on the pool's own listener;
 * - behind a pooler in transaction mode without a direct URL (a LISTEN there
 *   would be lost with the server connection it happened to run on): polling
 *   the change log, so a change reaches this instance within the interval.
 * Whatever the mode, the feed prunes the change log now and then.
 */
export async function openChangeFeedFor (database: { pooler: 'none' | 'transaction', directUrl: string | undefined }, sql: Sql, handlers: ChangeHandlers, channel = CHANGES_CHANNEL, options: ChangeFeedOptions = {}): Promise<ChangeFeed> {
  let feed: ChangeFeed
  if (database.directUrl !== undefined) {
    const direct = connect(database.directUrl, { max: 1 })
    try {
      const listening = await openChangeFeed(direct, handlers, channel)
      feed = {
        announce: listening.announce,
        close: async () => {
          await listening.close()
          await direct.end({ timeout: 3 })
        }
      }
    } catch (error) {
      await direct.end({ timeout: 1 })
      throw error
    }
  } else if (database.pooler === 'transaction') {
    feed = await openPolledChangeFeed(sql, handlers, channel, options.pollIntervalMs !== undefined ? { intervalMs: options.pollIntervalMs } : {})
  } else {
    feed = await openChangeFeed(sql, handlers, channel)
  }
  // Pruning is the feeds' chore in every mode: announcers write the log whether or not anyone polls it.
  let pruning: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    // A failed prune (the database away) is left to the next round.
    pruning = pruneChangeLog(sql, CHANGE_LOG_RETENTION_SECONDS, PRUNE_LIMIT).catch(() => {})
  }, PRUNE_EVERY_MS)
  timer.unref()
  return {
    announce: feed.announce,
    close: async () => {
      clearInterval(timer)
      await pruning
      await feed.close()
    }
  }
}
