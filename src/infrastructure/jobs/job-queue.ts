import PgBoss from 'pg-boss'
import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'

/**
 * The job queue: pg-boss 10 (SKIP LOCKED queues in PostgreSQL), run over the
 * service's own postgres.js pool, so a job can be added inside the
 * transaction that makes the change it is about (the outbox) and there is one
 * pool, not two. Why pg-boss over graphile-worker: a job whose worker died
 * mid-run expires after its expireInSeconds and is retried by the supervisor
 * of any instance (graphile-worker leaves it locked for 4 hours), and its
 * retry backoff is built in.
 */

export const QUEUES = {
  /** An event was recorded: create its webhook deliveries and its email. */
  fanOut: 'event-fan-out',
  email: 'email-send',
  webhook: 'webhook-deliver',
  /** The periodic search for due reminders and expiry notices. */
  scan: 'notification-scan',
  /** The portal's durable emails: a rejected order or correction request. */
  portalEmail: 'portal-email'
} as const
export type QueueName = typeof QUEUES[keyof typeof QUEUES]

export interface JobPolicy {
  /** How long a started job may run before it counts as crashed and is retried. */
  expireInSeconds: number
  /** First retry delay; each later one doubles (with jitter). */
  retryDelaySeconds: number
  /** Seconds between supervisor passes (expiring crashed jobs). */
  maintenanceIntervalSeconds: number
  /** How often idle workers look for jobs (also woken at once when this process adds one). */
  pollingIntervalSeconds: number
}

export const DEFAULT_JOB_POLICY: JobPolicy = { expireInSeconds: 120, retryDelaySeconds: 30, maintenanceIntervalSeconds: 30, pollingIntervalSeconds: 2 }

const RETRY_LIMITS: Record<QueueName, number> = {
  [QUEUES.fanOut]: 20,
  [QUEUES.email]: 12,
  // Backoff doubling from 30 s passes 3 days at about the 13th retry; the
  // delivery task itself gives up once 3 days have passed.
  [QUEUES.webhook]: 16,
  [QUEUES.scan]: 2,
  [QUEUES.portalEmail]: 12
}

/** Workers per queue per process: webhook calls wait on other people's servers (up to 10 s each). */
const CONCURRENCY: Record<QueueName, number> = {
  [QUEUES.fanOut]: 2,
  [QUEUES.email]: 4,
  [QUEUES.webhook]: 8,
  [QUEUES.scan]: 1,
  [QUEUES.portalEmail]: 2
}

export interface JobQueue {
  /** Adds a job in the caller's transaction: it exists if and only if the transaction commits. */
  add: (tx: Db, queue: QueueName, data: Record<string, unknown>, options?: { id?: string, startAfterSeconds?: number }) => Promise<void>
  /** Adds many jobs to one queue in one statement, in the caller's transaction. */
  addMany: (tx: Db, queue: QueueName, jobs: ReadonlyArray<{ id: string, data: Record<string, unknown> }>) => Promise<void>
  /** Runs a handler for each job of a queue (a few workers per queue per process: CONCURRENCY). */
  work: (queue: QueueName, handler: (job: { id: string, data: Record<string, unknown>, retryCount: number }) => Promise<void>) => Promise<void>
  /** Cron schedule (one send per slot across every instance). */
  schedule: (queue: QueueName, cron: string) => Promise<void>
  stop: () => Promise<void>
  readonly policy: JobPolicy
}

/** pg-boss talks to a `{ executeSql(text, values) }`; this one is postgres.js. */
function postgresJsDb (sql: Db): PgBoss.Db {
  return {
    executeSql: async (text, values = []) => {
      // pg turns undefined into null; postgres.js refuses it.
      const params = values.map((v: unknown) => v === undefined ? null : v)
      // pg-boss's migrations are BEGIN ... COMMIT scripts: they need one pinned connection.
      if (/^\s*BEGIN/i.test(text) && 'reserve' in sql) {
        const connection = await (sql as Sql).reserve()
        try {
          return { rows: [...await connection.unsafe(text, params as never[])] }
        } finally {
          connection.release()
        }
      }
      return { rows: [...await sql.unsafe(text, params as never[])] }
    }
  }
}

/**
 * Opens the queue: pg-boss's schema migrated (under its advisory lock) and the
 * queues created. `run` also starts its supervisor (crashed-job expiry) and
 * cron; an API-only instance only adds jobs.
 */
export async function openJobQueue (sql: Sql, options: { run: boolean, policy?: Partial<JobPolicy>, onError?: (error: unknown) => void }): Promise<JobQueue> {
  const policy = { ...DEFAULT_JOB_POLICY, ...options.policy }
  const boss = new PgBoss({
    db: postgresJsDb(sql),
    migrate: true,
    supervise: options.run,
    schedule: options.run,
    maintenanceIntervalSeconds: policy.maintenanceIntervalSeconds,
    // Completed jobs are kept a week for inspection; our own tables keep the history.
    deleteAfterDays: 7
  } as PgBoss.ConstructorOptions)
  boss.on('error', (error) => { options.onError?.(error) })
  await boss.start()
  for (const name of Object.values(QUEUES)) {
    const settings = { name, retryLimit: RETRY_LIMITS[name], retryDelay: policy.retryDelaySeconds, retryBackoff: true, expireInSeconds: policy.expireInSeconds }
    if (await boss.getQueue(name) === null) await boss.createQueue(name, settings).catch(async () => await boss.updateQueue(name, settings))
    else await boss.updateQueue(name, settings)
  }
  let stopping = false
  const wakers = new Map<QueueName, () => void>()
  return {
    policy,
    add: async (tx, queue, data, addOptions = {}) => {
      await boss.send(queue, data, {
        db: postgresJsDb(tx),
        ...(addOptions.id !== undefined ? { id: addOptions.id } : {}),
        ...(addOptions.startAfterSeconds !== undefined ? { startAfter: addOptions.startAfterSeconds } : {})
      })
      // A worker in this process need not wait for its next poll (after commit: a short delay).
      const wake = wakers.get(queue)
      if (wake !== undefined) setTimeout(wake, 50).unref()
    },
    addMany: async (tx, queue, jobs) => {
      if (jobs.length === 0) return
      // pg-boss's insert takes the queue's retry and expiry settings, as send does.
      // It passes the jobs as JSON text for a json parameter; postgres.js encodes
      // a json parameter itself, so it gets the array (else it arrives as one JSON string).
      const db = postgresJsDb(tx)
      const insertDb: PgBoss.Db = { executeSql: async (text, values = []) => await db.executeSql(text, [JSON.parse(values[0] as string), ...values.slice(1)]) }
      await boss.insert(jobs.map((job) => ({ id: job.id, name: queue, data: job.data })), { db: insertDb } as PgBoss.InsertOptions)
      const wake = wakers.get(queue)
      if (wake !== undefined) setTimeout(wake, 50).unref()
    },
    work: async (queue, handler) => {
      const ids: string[] = []
      for (let i = 0; i < CONCURRENCY[queue]; i++) {
        let id = ''
        id = await boss.work(queue, { pollingIntervalSeconds: policy.pollingIntervalSeconds, includeMetadata: true, batchSize: 1 }, async (jobs: Array<PgBoss.JobWithMetadata<Record<string, unknown>>>) => {
          try {
            for (const job of jobs) await handler({ id: job.id, data: job.data, retryCount: job.retryCount })
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
    stop: async () => {
      stopping = true
      await boss.stop({ graceful: true, wait: true, timeout: 10_000, close: false })
    }
  }
}
