import PgBoss from 'pg-boss'
import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'
import { announceChange } from '../caching/change-feed.js'
import { settledWithin } from '../../kernel/settled.js'
import { inJobSpan, withJobOrigin } from '../tracing/tracing.js'

/**
 * The job queue: pg-boss 10 (SKIP LOCKED queues in PostgreSQL), run over the
 * service's own postgres.js pool, so a job can be added inside the
 * transaction that makes the change it is about (the outbox) and there is one
 * pool, not two. Why pg-boss over graphile-worker: a job whose worker died
 * mid-run expires after its expireInSeconds and is retried by the supervisor
 * of any instance (graphile-worker leaves it locked for 4 hours), and its
 * retry backoff is built in. Every piece of work that runs later, once or on
 * a schedule, is a job of one of these queues.
 *
 * pg-boss is pinned exactly (package.json): this adapter relies on how it
 * talks to its database, and test/jobs/pg-boss-contract.test.ts says how.
 */

/** What a job of each queue carries. Scheduled queues carry nothing (pg-boss's cron sends no data). */
export interface QueuePayloads {
  /**
   * An event was recorded: create its webhook deliveries and its email. The
   * outbox now writes these with the event; the queue stays so that jobs
   * queued before that (an upgrade with jobs in flight) still drain.
   */
  'event-fan-out': { eventId: string }
  'email-send': { eventId: string }
  'webhook-deliver': { deliveryId: string }
  /** The portal's durable emails: a rejected order or correction request. */
  'portal-email': { orderId: string }
  /** Scheduled: the search for due reminders and expiry notices. */
  'notification-scan': Scheduled
  /** Scheduled: re-signing the status lists that will soon expire. */
  'status-list-refresh': Scheduled
  /** Scheduled: deleting the portal's ended sessions and used-up sign-in tokens. */
  'portal-purge': Scheduled
}
/** The payload of a scheduled queue: nothing. */
export type Scheduled = Record<string, never>

export const QUEUES = {
  fanOut: 'event-fan-out',
  email: 'email-send',
  webhook: 'webhook-deliver',
  portalEmail: 'portal-email',
  scan: 'notification-scan',
  statusListRefresh: 'status-list-refresh',
  portalPurge: 'portal-purge'
} as const satisfies Record<string, QueueName>
export type QueueName = keyof QueuePayloads
/** The queues a cron schedule sends to. */
export type ScheduledQueue = { [Q in QueueName]: QueuePayloads[Q] extends Scheduled ? Q : never }[QueueName]

/** A job to add, of any queue. */
export type QueuedJob = { [Q in QueueName]: { queue: Q, id?: string, data: QueuePayloads[Q] } }[QueueName]

/** A job as a handler sees it. */
export interface Job<Q extends QueueName> { id: string, data: QueuePayloads[Q], retryCount: number }

export interface JobPolicy {
  /** How long a started job may run before it counts as crashed and is retried. */
  expireInSeconds: number
  /** First retry delay; each later one doubles (with jitter). */
  retryDelaySeconds: number
  /** Seconds between supervisor passes (expiring crashed jobs) and between checks of the cron schedules. */
  maintenanceIntervalSeconds: number
  /** How often idle workers look for jobs (also woken at once when this process adds one). */
  pollingIntervalSeconds: number
}

export const DEFAULT_JOB_POLICY: JobPolicy = { expireInSeconds: 120, retryDelaySeconds: 30, maintenanceIntervalSeconds: 30, pollingIntervalSeconds: 2 }

/**
 * Per queue (every one, or this does not compile): retries before a job
 * counts as failed, workers per process, and jobs each worker fetches at once
 * (handled side by side; each completes or fails on its own). A batch saves
 * the fetch and completion statements of all but one job: what a 1,000-email
 * backlog spent most of its statements on with one job per fetch.
 */
const QUEUE_SETTINGS: Record<QueueName, { retryLimit: number, concurrency: number, batchSize: number }> = {
  [QUEUES.fanOut]: { retryLimit: 20, concurrency: 1, batchSize: 10 },
  // 2 x 8 emails in flight: rendering is CPU (one core's worth), the rest waits on
  // the database and the mail server, and stays within the pool's connections.
  [QUEUES.email]: { retryLimit: 12, concurrency: 2, batchSize: 8 },
  // Backoff doubling from 30 s passes 3 days at about the 13th retry; the
  // delivery task itself gives up once 3 days have passed. Webhook calls wait
  // on other people's servers (up to 10 s each): more in flight, in small
  // batches so that one slow receiver holds few others' completions.
  [QUEUES.webhook]: { retryLimit: 16, concurrency: 4, batchSize: 4 },
  [QUEUES.portalEmail]: { retryLimit: 12, concurrency: 2, batchSize: 1 },
  // A scheduled run that fails is retried a little, then the next slot comes.
  [QUEUES.scan]: { retryLimit: 2, concurrency: 1, batchSize: 1 },
  [QUEUES.statusListRefresh]: { retryLimit: 2, concurrency: 1, batchSize: 1 },
  [QUEUES.portalPurge]: { retryLimit: 2, concurrency: 1, batchSize: 1 }
}

export interface JobQueue {
  /** Adds a job in the caller's transaction: it exists if and only if the transaction commits. */
  add: <Q extends QueueName>(tx: Db, queue: Q, data: QueuePayloads[Q], options?: { id?: string, startAfterSeconds?: number }) => Promise<void>
  /** Adds many jobs to one queue in one statement, in the caller's transaction. */
  addMany: <Q extends QueueName>(tx: Db, queue: Q, jobs: ReadonlyArray<{ id: string, data: QueuePayloads[Q] }>) => Promise<void>
  /** Adds jobs of any queues in one statement, in the caller's transaction (ids made by the database when not given). */
  addAll: (tx: Db, jobs: readonly QueuedJob[]) => Promise<void>
  /** Runs a handler for each job of a queue (a few workers per queue per process: QUEUE_SETTINGS). */
  work: <Q extends QueueName>(queue: Q, handler: (job: Job<Q>) => Promise<void>) => Promise<void>
  /** Cron schedule (one send per slot across every instance; checked every maintenanceIntervalSeconds). */
  schedule: (queue: ScheduledQueue, cron: string) => Promise<void>
  /**
   * Stops the workers: waits up to `graceMs` (default 10 s) for running jobs,
   * then up to as long again for a job fetched while stopping, and for the
   * statements that record how jobs ended. After it returns, nothing of the
   * queue touches the pool, so the caller may end it.
   */
  stop: (options?: { graceMs?: number }) => Promise<void>
  /**
   * A change heard on the change feed: when it says jobs were added (by any
   * process), this process's workers of those queues fetch at once instead of
   * at their next poll.
   */
  onChange: (key: string) => void
  readonly policy: JobPolicy
}

/**
 * The change-feed key a transaction that adds jobs announces (with the queues,
 * sorted, after the colon). The job workers usually run in another process
 * than the one adding (WORKER=inline in a cluster: the job-worker process);
 * without it they would hear of a job only at their next poll, and a worker
 * that had caught up would sleep a whole polling interval while a batch queued
 * its emails behind it.
 */
export const JOBS_ADDED = 'jobs-added:'

/** PostgreSQL's `unknown` type: a parameter declared with it is typed by the server from its use, as an unspecified one. */
const UNKNOWN_OID = 705

/**
 * pg-boss talks to a `{ executeSql(text, values) }` written for node-postgres
 * (pg); this one runs on postgres.js. The two bind parameters differently:
 * pg sends every value as text of unspecified type and lets PostgreSQL parse
 * it, so pg-boss passes JSON as text (the jobs of its insert, for
 * json_to_recordset); postgres.js asks the server for each parameter's type
 * and serialises the value for it, so a string bound to a json parameter is
 * JSON-encoded again, into a JSON string ("cannot call json_to_recordset on a
 * scalar": how pg-boss's cron lost every slot). So a string goes as pg sends
 * it: text of type `unknown`, which postgres.js passes through untouched and
 * the server parses for the type it needs. Other values (numbers, booleans,
 * arrays, objects for jsonb, dates) are serialised alike by both.
 */
export function pgBossDb (sql: Db): PgBoss.Db {
  return {
    executeSql: async (text, values = []) => {
      // pg turns undefined into null; postgres.js refuses it.
      const params = values.map((v: unknown) => v === undefined ? null : typeof v === 'string' ? sql.typed(v as never, UNKNOWN_OID) : v)
      // pg-boss's schema scripts are BEGIN ... COMMIT in one text: postgres.js runs a
      // BEGIN only on a connection reserved for it. When a statement of such a text
      // fails, PostgreSQL skips the rest (the COMMIT too) and leaves the connection in
      // the aborted transaction: it is rolled back before going back to the pool, or
      // every later statement on it fails ("current transaction is aborted"). pg-boss
      // expects such failures: processes starting together race to create its schema,
      // and the losers' "already exists" is swallowed (contractor.js); seen in CI as
      // an instance that could not start beside its twin and the worker.
      if (/^\s*BEGIN/i.test(text) && 'reserve' in sql) {
        const connection = await sql.reserve()
        try {
          return { rows: [...await connection.unsafe(text, params as never[])] }
        } catch (error) {
          await connection.unsafe('ROLLBACK').catch(() => {})
          throw error
        } finally {
          connection.release()
        }
      }
      return { rows: [...await sql.unsafe(text, params as never[])] }
    }
  }
}

/**
 * pg-boss's own connection, made safe to end the pool after: it counts the
 * statements in flight, and once closed sends none. pg-boss records a job's
 * end without awaiting it (manager.js: `this.complete(...)` after the
 * handler), and a worker whose fetch was under way when stop began runs the
 * job it got after pg-boss says it has stopped: either statement would then
 * meet an ended pool and reject with nobody to catch it (an unhandled
 * rejection, seen as CONNECTION_ENDED in CI). A statement asked for after
 * close never answers: its job stays active and expires into a retry, as
 * when a process dies.
 */
function closableDb (sql: Db): { db: PgBoss.Db, drain: (ms: number) => Promise<void> } {
  const inner = pgBossDb(sql)
  const inFlight = new Set<Promise<unknown>>()
  let closed = false
  return {
    db: {
      executeSql: async (text, values) => {
        if (closed) return await new Promise<never>(() => {})
        const run = inner.executeSql(text, values)
        inFlight.add(run)
        try {
          return await run
        } finally {
          inFlight.delete(run)
        }
      }
    },
    drain: async (ms) => {
      closed = true
      await settledWithin(inFlight, ms)
    }
  }
}

const wakeSoon = (wake: (() => void) | undefined): void => {
  // A worker in this process need not wait for its next poll (after commit: a short delay).
  if (wake !== undefined) setTimeout(wake, 50).unref()
}

/** Tells every process's workers, through the change feed (delivered when `tx` commits), that these queues have new jobs. */
async function announceAdded (tx: Db, queues: Iterable<QueueName>): Promise<void> {
  await announceChange(tx, JOBS_ADDED + [...new Set(queues)].sort().join(','))
}

/**
 * Opens the queue: pg-boss's schema migrated (under its advisory lock) and the
 * queues created. `run` also starts its supervisor (crashed-job expiry) and
 * cron; an API-only instance only adds jobs.
 */
export async function openJobQueue (sql: Sql, options: { run: boolean, policy?: Partial<JobPolicy>, onError?: (error: unknown) => void }): Promise<JobQueue> {
  const policy = { ...DEFAULT_JOB_POLICY, ...options.policy }
  const within = (seconds: number): number => Math.min(45, Math.max(1, Math.ceil(seconds)))
  const connection = closableDb(sql)
  const boss = new PgBoss({
    db: connection.db,
    migrate: true,
    supervise: options.run,
    schedule: options.run,
    maintenanceIntervalSeconds: policy.maintenanceIntervalSeconds,
    // How often the schedules are checked (a slot is sent at most this late), and
    // how often the checked slots become jobs; pg-boss takes 1 to 45 seconds.
    cronMonitorIntervalSeconds: within(policy.maintenanceIntervalSeconds),
    cronWorkerIntervalSeconds: within(policy.pollingIntervalSeconds),
    // Completed jobs are kept a week for inspection; our own tables keep the history.
    deleteAfterDays: 7
  })
  boss.on('error', (error) => { options.onError?.(error) })
  await boss.start()
  for (const name of Object.keys(QUEUE_SETTINGS) as QueueName[]) {
    const settings = { name, retryLimit: QUEUE_SETTINGS[name].retryLimit, retryDelay: policy.retryDelaySeconds, retryBackoff: true, expireInSeconds: policy.expireInSeconds }
    if (await boss.getQueue(name) === null) await boss.createQueue(name, settings).catch(async () => { await boss.updateQueue(name, settings) })
    else await boss.updateQueue(name, settings)
  }
  let stopping = false
  // Handlers running now, so that stop can wait for one fetched while stopping.
  const running = new Set<Promise<unknown>>()
  const wakers = new Map<QueueName, () => void>()
  return {
    policy,
    add: async (tx, queue, data, addOptions = {}) => {
      await boss.send(queue, withJobOrigin(data), {
        db: pgBossDb(tx),
        ...(addOptions.id !== undefined ? { id: addOptions.id } : {}),
        ...(addOptions.startAfterSeconds !== undefined ? { startAfter: addOptions.startAfterSeconds } : {})
      })
      // A delayed job is for later: its worker's own poll finds it.
      if (addOptions.startAfterSeconds === undefined) {
        await announceAdded(tx, [queue])
        wakeSoon(wakers.get(queue))
      }
    },
    addMany: async (tx, queue, jobs) => {
      if (jobs.length === 0) return
      // pg-boss's insert takes the queue's retry and expiry settings, as send does.
      await boss.insert(jobs.map((job) => ({ id: job.id, name: queue, data: withJobOrigin(job.data) })), { db: pgBossDb(tx) })
      await announceAdded(tx, [queue])
      wakeSoon(wakers.get(queue))
    },
    addAll: async (tx, jobs) => {
      if (jobs.length === 0) return
      // pg-boss's insert takes each job's queue (its name) and that queue's settings.
      await boss.insert(jobs.map((job) => ({ ...(job.id !== undefined ? { id: job.id } : {}), name: job.queue, data: withJobOrigin(job.data) })), { db: pgBossDb(tx) })
      const queues = new Set(jobs.map((job) => job.queue))
      await announceAdded(tx, queues)
      for (const queue of queues) wakeSoon(wakers.get(queue))
    },
    onChange: (key) => {
      // Not once stopping: a fetch then could run after the pool has ended.
      if (stopping || !key.startsWith(JOBS_ADDED)) return
      for (const queue of key.slice(JOBS_ADDED.length).split(',')) wakers.get(queue as QueueName)?.()
    },
    work: async <Q extends QueueName>(queue: Q, handler: (job: Job<Q>) => Promise<void>) => {
      const ids: string[] = []
      const { concurrency, batchSize } = QUEUE_SETTINGS[queue]
      for (let i = 0; i < concurrency; i++) {
        let id = ''
        id = await boss.work(queue, { pollingIntervalSeconds: policy.pollingIntervalSeconds, includeMetadata: true, batchSize }, async (jobs: Array<PgBoss.JobWithMetadata<QueuePayloads[Q] | null>>) => {
          try {
            // A scheduled job's data is null (its cron sends none): the empty payload.
            // Each in a span (tracing: the adding request's id comes with the data, and is taken off it).
            await Promise.all(jobs.map(async (job) => {
              const run = inJobSpan(queue, { id: job.id, retryCount: job.retryCount, data: job.data ?? {} as QueuePayloads[Q] }, async (data) => { await handler({ id: job.id, data, retryCount: job.retryCount }) })
              running.add(run)
              try {
                await run
              } catch (error) {
                // A batch alone: this job fails (retried with backoff); pg-boss then completes only those still active.
                if (jobs.length === 1) throw error
                await boss.fail(queue, job.id, error instanceof Error ? error : { value: String(error) })
              } finally {
                running.delete(run)
              }
            }))
          } finally {
            // pg-boss waits a whole polling interval after every fetch, busy or not;
            // after a job there may be more: fetch again at once (an empty fetch then waits).
            // Not once stopping: that would fetch a job after the pool may have ended.
            if (!stopping) boss.notifyWorker(id)
          }
        })
        ids.push(id)
      }
      wakers.set(queue, () => { for (const id of ids) boss.notifyWorker(id) })
    },
    schedule: async (queue, cron) => { await boss.schedule(queue, cron) },
    stop: async ({ graceMs = 10_000 } = {}) => {
      stopping = true
      await boss.stop({ graceful: true, wait: true, timeout: graceMs, close: false })
      await settledWithin(running, graceMs)
      // The statement that records a job's end starts a turn after its handler settles.
      await new Promise((resolve) => setImmediate(resolve))
      await connection.drain(graceMs)
    }
  }
}
