import cluster, { type Worker } from 'node:cluster'
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client'

/**
 * WEB_CONCURRENCY > 1: the primary's side of the service's processes (Node's
 * cluster module: one port, one command, the connections shared out by the
 * primary). server.ts does the once-only work (embedded database, migrations,
 * keys, the development staff key), then hands over here: HTTP children run
 * server.ts again, and one job-worker child runs worker.ts. A child that dies
 * is started again after a backoff; stop() ends them all gracefully.
 */

/** What a child does: serve HTTP (server.ts) or run the job workers (worker.ts). */
export type ChildRole = 'http' | 'jobs'

export interface ClusterLog {
  info: (message: string) => void
  warn: (message: string) => void
  error: (message: string) => void
}

export interface ClusterOptions {
  /** HTTP children (WEB_CONCURRENCY). */
  processes: number
  /** The modules each role runs (server.js and worker.js, or their .ts under tsx). */
  entries: { http: string, jobs?: string }
  /** Added to every child's environment: what the primary prepared, so children do not repeat it. */
  env: Record<string, string>
  log: ClusterLog
}

export interface RunningCluster {
  /** Every HTTP child's metrics, aggregated (prom-client's aggregators: counters summed, database figures by max). */
  exposition: () => Promise<string>
  readonly contentType: string
  /** SIGTERM to every child, waits for them (SIGKILL after `timeoutMs`). */
  stop: (timeoutMs: number) => Promise<void>
}

const METRICS_REQUEST = 'tessera:metrics-request'
const METRICS_ANSWER = 'tessera:metrics'
/** A child that lived this long is healthy again: its next death restarts without a backoff. */
const HEALTHY_AFTER_MS = 30_000
const MAX_BACKOFF_MS = 30_000
/** The longest a scrape waits for one child; a busy child is left out rather than failing the scrape. */
const METRICS_TIMEOUT_MS = 3_000

interface Slot { role: ChildRole, index: number, worker?: Worker, startedAt: number, failures: number, listening: boolean }

/**
 * Forks the children and resolves once every HTTP child listens. A child that
 * exits before the first time every HTTP child listened fails the start
 * (configuration or database problems: restarting would only repeat them).
 */
export async function startCluster (options: ClusterOptions): Promise<RunningCluster> {
  const { log } = options
  // Round robin in the primary, unless NODE_CLUSTER_SCHED_POLICY (Node's own setting) says otherwise.
  // Measured on the 2-core development machine (autocannon -c 50, keep-alive, two processes, GET of a
  // credential): round robin 13,000-17,000/s, the OS's accept (SCHED_NONE) 7,000-7,600/s, no better
  // than one process: the kernel hands most connections to whichever process wakes first.
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_RR
  const slots: Slot[] = [
    ...Array.from({ length: options.processes }, (_, index): Slot => ({ role: 'http', index, startedAt: 0, failures: 0, listening: false })),
    ...(options.entries.jobs === undefined ? [] : [{ role: 'jobs' as const, index: 0, startedAt: 0, failures: 0, listening: false }])
  ]
  let stopping = false
  let started = false
  let failStart: (error: Error) => void = () => {}
  let allListening: () => void = () => {}
  const ready = new Promise<void>((resolve, reject) => { allListening = resolve; failStart = reject })

  const fork = (slot: Slot): void => {
    // setupPrimary applies to the next fork: each role names its module; execArgv (the heap cap, tsx) is inherited.
    cluster.setupPrimary({ exec: slot.role === 'http' ? options.entries.http : options.entries.jobs })
    const worker = cluster.fork(options.env)
    slot.worker = worker
    slot.startedAt = Date.now()
    slot.listening = false
    worker.once('listening', () => {
      slot.listening = true
      if (!started && slots.every((s) => s.role !== 'http' || s.listening)) {
        started = true
        allListening()
      }
    })
    worker.once('exit', (code, signal) => {
      slot.worker = undefined
      if (stopping) return
      const how = signal !== null ? `signal ${signal}` : `code ${String(code)}`
      if (!started) {
        failStart(new Error(`a ${slot.role === 'http' ? 'HTTP' : 'job-worker'} process exited (${how}) while the service was starting`))
        return
      }
      slot.failures = Date.now() - slot.startedAt >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1
      const delay = Math.min(MAX_BACKOFF_MS, slot.failures === 0 ? 0 : 250 * 2 ** slot.failures)
      log.error(`${slot.role === 'http' ? `HTTP process ${slot.index + 1}` : 'the job-worker process'} (pid ${String(worker.process.pid)}) exited (${how}): starting it again in ${delay} ms`)
      setTimeout(() => { if (!stopping) fork(slot) }, delay).unref()
    })
  }

  const stop = async (timeoutMs: number): Promise<void> => {
    stopping = true
    const running = slots.flatMap((s) => s.worker === undefined || s.worker.isDead() ? [] : [s.worker])
    const exited = running.map(async (worker) => { await new Promise((resolve) => worker.once('exit', resolve)) })
    // SIGTERM, not worker.kill(): kill() disconnects first, and a disconnected child exits without closing its app.
    for (const worker of running) worker.process.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => { resolve('late') }, timeoutMs) })
    if (await Promise.race([Promise.all(exited), late]) === 'late') {
      log.warn('processes still running after the shutdown bound: killing them')
      for (const worker of running) if (!worker.isDead()) worker.process.kill('SIGKILL')
      await Promise.all(exited)
    }
    clearTimeout(timer)
  }

  for (const slot of slots) fork(slot)
  try {
    await ready
  } catch (error) {
    await stop(5_000)
    throw error
  }

  return {
    contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
    exposition: async () => {
      const answers = await Promise.all(slots.filter((s) => s.role === 'http' && s.listening).map(async (s) => await (s.worker === undefined ? undefined : metricsOf(s.worker))))
      return await AggregatorRegistry.aggregate(answers.filter((a) => a !== undefined)).metrics()
    },
    stop
  }
}

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>

let nextRequest = 0

/** One child's metrics as JSON (undefined when it does not answer in time). */
async function metricsOf (worker: Worker): Promise<MetricsJson | undefined> {
  const id = nextRequest++
  return await new Promise((resolve) => {
    const done = (value: MetricsJson | undefined): void => {
      clearTimeout(timer)
      worker.off('message', onMessage)
      resolve(value)
    }
    const onMessage = (message: { type?: string, id?: number, metrics?: MetricsJson }): void => {
      if (message.type === METRICS_ANSWER && message.id === id) done(message.metrics)
    }
    const timer = setTimeout(() => { done(undefined) }, METRICS_TIMEOUT_MS)
    worker.on('message', onMessage)
    worker.send({ type: METRICS_REQUEST, id })
  })
}

/** In an HTTP child: answers the primary's scrapes with this process's metrics. */
export function answerMetricsRequests (read: () => Promise<MetricsJson>): void {
  process.on('message', (message: { type?: string, id?: number }) => {
    if (message.type !== METRICS_REQUEST) return
    read().then(
      (metrics) => { process.send?.({ type: METRICS_ANSWER, id: message.id, metrics }) },
      () => { process.send?.({ type: METRICS_ANSWER, id: message.id, metrics: [] }) }
    )
  })
}
