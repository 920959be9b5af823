import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import type { Sql } from 'postgres'
import { isDatabaseUnavailable } from '../db/errors.js'
import type { DataIntegrity } from '../signing/pool.js'
import { readOperationalFacts } from './store.js'

/**
 * The service's Prometheus metrics (prom-client), every name under `tessera_`.
 * Two kinds: what this process counts as it works (requests, verifications,
 * database errors, Data Integrity tasks) and what the database says at scrape
 * time (job queues, events, deliveries, status lists), so any instance reports
 * the deployment's whole state: aggregate those with max(), not sum() (their
 * `aggregator`, which the cluster primary's aggregation of its processes follows).
 * Labels carry route patterns, statuses, queue names, event types and issuer
 * ids: never a URL as sent, an email address or a name.
 */
export interface Metrics {
  readonly registry: Registry
  /** One answered request, by its route pattern (`unmatched` when no route matched). */
  request: (method: string, route: string | undefined, status: number, seconds: number) => void
  /** One credential verified: its overall status, and the channel that asked. */
  verification: (status: string, channel: VerificationChannel) => void
  /** An error a request met: counted when it came from the database. */
  requestError: (error: unknown) => void
  /** The same threads, their tasks counted and timed. */
  observeDataIntegrity: (dataIntegrity: DataIntegrity) => DataIntegrity
  /** The exposition: the database read first (bounded; a database down sets tessera_database_up 0 and drops its gauges). */
  exposition: () => Promise<string>
  readonly contentType: string
}

/** Where a verification was asked for. */
export type VerificationChannel = 'api' | 'stored' | 'page' | 'presentation'

export interface MetricsOptions {
  sql: Sql
  /** The pool's configured size (postgres.js has no live pool statistics). */
  poolMax: number
  /** DATA_INTEGRITY_THREADS: the most threads the pool may start. */
  dataIntegrityThreadsMax: number
  /** How long the scrape's database read may take (ms). */
  databaseTimeoutMs?: number
}

const PREFIX = 'tessera_'

/** PostgreSQL error codes are SQLSTATEs of five characters; their class is the first two. */
function postgresClass (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && (error as { severity?: unknown }).severity !== undefined ? code.slice(0, 2) : undefined
}

/** Creates the registry of one app (its own: two apps in one process do not share counters). */
export function createMetrics (options: MetricsOptions): Metrics {
  const registry = new Registry()
  const timeoutMs = options.databaseTimeoutMs ?? 2000
  collectDefaultMetrics({ register: registry, prefix: PREFIX })
  const registers = [registry]

  const up = new Gauge({ name: `${PREFIX}up`, help: '1 while this process serves its metrics', registers })
  up.set(1)
  const labelsHttp = ['method', 'route', 'status'] as const
  const requests = new Counter({ name: `${PREFIX}http_requests_total`, help: 'HTTP requests answered, by route pattern and status', labelNames: labelsHttp, registers })
  const durations = new Histogram({ name: `${PREFIX}http_request_duration_seconds`, help: 'Time to answer an HTTP request, by route pattern and status', labelNames: labelsHttp, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers })
  const verifications = new Counter({ name: `${PREFIX}verifications_total`, help: 'Credentials verified, by overall status and the channel that asked', labelNames: ['status', 'channel'] as const, registers })
  const databaseErrors = new Counter({ name: `${PREFIX}database_errors_total`, help: 'Database errors requests met: kind "unavailable" (connection, timeout, overload) or "query" with its SQLSTATE class', labelNames: ['kind', 'class'] as const, registers })

  const diMax = new Gauge({ name: `${PREFIX}data_integrity_threads_max`, help: 'Data Integrity threads this process may start (0: signing runs on the event loop)', registers })
  diMax.set(options.dataIntegrityThreadsMax)
  const diInFlight = new Gauge({ name: `${PREFIX}data_integrity_tasks_in_flight`, help: 'Data Integrity tasks (sign, verify, ...) running or queued for a thread', registers })
  const diTasks = new Histogram({ name: `${PREFIX}data_integrity_task_duration_seconds`, help: 'Data Integrity tasks, by kind and outcome, with their time including the wait for a thread', labelNames: ['kind', 'outcome'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers })
  let observed: DataIntegrity | undefined
  new Gauge({ name: `${PREFIX}data_integrity_threads`, help: 'Data Integrity threads running now', registers, collect () { this.set(observed?.threads ?? 0) } }) // eslint-disable-line no-new

  new Gauge({ name: `${PREFIX}database_pool_max`, help: 'Connections the database pool may open (configured; postgres.js reports no live use)', registers }).set(options.poolMax)
  const databaseUp = new Gauge({ name: `${PREFIX}database_up`, help: '1 when the scrape\'s database read succeeded, 0 when it failed or timed out', registers, aggregator: 'min' })
  const readSeconds = new Gauge({ name: `${PREFIX}database_read_seconds`, help: 'How long the scrape\'s database read took', registers, aggregator: 'max' })
  const queueDepth = new Gauge({ name: `${PREFIX}job_queue_depth`, help: 'Jobs waiting per queue (created or waiting for a retry)', labelNames: ['queue'] as const, registers, aggregator: 'max' })
  const queueRetrying = new Gauge({ name: `${PREFIX}job_queue_retrying`, help: 'Jobs per queue that failed and wait for a retry', labelNames: ['queue'] as const, registers, aggregator: 'max' })
  const queueAge = new Gauge({ name: `${PREFIX}job_queue_oldest_age_seconds`, help: 'How long the oldest runnable job of each queue has waited past its start time', labelNames: ['queue'] as const, registers, aggregator: 'max' })
  const events = new Counter({ name: `${PREFIX}credential_events_total`, help: 'Events recorded in the database, by type (credential.issued, credential.reissued: corrected or re-signed, credential.recertified, credential.revoked, ...)', labelNames: ['type'] as const, registers, aggregator: 'max' })
  const emails = new Gauge({ name: `${PREFIX}email_notifications`, help: 'Holder emails events called for, by state (pending: not sent yet or being retried; sent; skipped)', labelNames: ['state'] as const, registers, aggregator: 'max' })
  const webhooks = new Gauge({ name: `${PREFIX}webhook_deliveries`, help: 'Webhook deliveries by state (pending, delivered, failed: given up)', labelNames: ['state'] as const, registers, aggregator: 'max' })
  const webhookAttempts = new Gauge({ name: `${PREFIX}webhook_delivery_attempts`, help: 'Attempts webhook deliveries took, by the delivery\'s state (attempts beyond one per delivery are retries)', labelNames: ['state'] as const, registers, aggregator: 'max' })
  const listsRemaining = new Gauge({ name: `${PREFIX}status_list_capacity_remaining`, help: 'Indexes left in the open status list of each issuer and purpose (a full list is closed and a new one opened on the next issue)', labelNames: ['issuer', 'purpose'] as const, registers, aggregator: 'max' })
  const lists = new Gauge({ name: `${PREFIX}status_lists`, help: 'Status lists per issuer and purpose', labelNames: ['issuer', 'purpose'] as const, registers, aggregator: 'max' })
  const fromDatabase = [queueDepth, queueRetrying, queueAge, events, emails, webhooks, webhookAttempts, listsRemaining, lists]

  const readDatabase = async (): Promise<void> => {
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      const facts = await Promise.race([
        readOperationalFacts(options.sql, timeoutMs),
        new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('timeout')) }, timeoutMs + 500) })
      ])
      for (const metric of fromDatabase) metric.reset()
      for (const q of facts.queues) {
        queueDepth.set({ queue: q.queue }, q.waiting)
        queueRetrying.set({ queue: q.queue }, q.retrying)
        queueAge.set({ queue: q.queue }, q.oldestSeconds)
      }
      for (const e of facts.events) events.inc({ type: e.type }, e.count)
      for (const e of facts.emails) emails.set({ state: e.state }, e.count)
      for (const w of facts.webhooks) {
        webhooks.set({ state: w.state }, w.count)
        webhookAttempts.set({ state: w.state }, w.attempts)
      }
      for (const l of facts.statusLists) {
        lists.set({ issuer: l.issuerId, purpose: l.purpose }, l.lists)
        listsRemaining.set({ issuer: l.issuerId, purpose: l.purpose }, l.remaining)
      }
      databaseUp.set(1)
    } catch {
      // Report what this process knows; stale database figures would mislead.
      for (const metric of fromDatabase) metric.reset()
      databaseUp.set(0)
    } finally {
      clearTimeout(timer)
      readSeconds.set((performance.now() - started) / 1000)
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    request: (method, route, status, seconds) => {
      const labels = { method, route: route ?? 'unmatched', status: String(status) }
      requests.inc(labels)
      durations.observe(labels, seconds)
    },
    verification: (status, channel) => { verifications.inc({ status, channel }) },
    requestError: (error) => {
      if (isDatabaseUnavailable(error)) databaseErrors.inc({ kind: 'unavailable', class: 'none' })
      else {
        const sqlClass = postgresClass(error)
        if (sqlClass !== undefined) databaseErrors.inc({ kind: 'query', class: sqlClass })
      }
    },
    observeDataIntegrity: (dataIntegrity) => {
      observed = dataIntegrity
      return {
        run: async <T>(task: Parameters<DataIntegrity['run']>[0]): Promise<T> => {
          const end = diTasks.startTimer({ kind: task.kind })
          diInFlight.inc()
          try {
            const result = await dataIntegrity.run<T>(task)
            end({ outcome: 'ok' })
            return result
          } catch (error) {
            end({ outcome: 'error' })
            throw error
          } finally {
            diInFlight.dec()
          }
        },
        get threads () { return dataIntegrity.threads },
        close: async () => { await dataIntegrity.close() }
      }
    },
    exposition: async () => {
      await readDatabase()
      return await registry.metrics()
    }
  }
}

/** Counts every answered request and the database errors requests meet, through the app's hooks. */
export function installRequestMetrics (app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000)
  })
  app.addHook('onError', async (_request, _reply, error) => { metrics.requestError(error) })
}
