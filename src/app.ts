import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify'
import type { Sql } from 'postgres'
import { achievementPublicRoutes, achievementStaffRoutes } from './channels/api/achievements.js'
import { auditRoutes } from './channels/api/audit.js'
import type { Config } from './kernel/config.js'
import { credentialPublicRoutes, credentialStaffRoutes, type ServedVersion } from './channels/api/credentials.js'
import { openChangeFeedFor, type ChangeAnnouncer } from './infrastructure/caching/change-feed.js'
import { DocumentCache } from './infrastructure/caching/document-cache.js'
import { installErrorHandling } from './infrastructure/http/error-handling.js'
import { healthRoutes } from './channels/api/health.js'
import { holderPageRoutes } from './channels/holder-pages/routes.js'
import { homeRoutes } from './channels/holder-pages/home-routes.js'
import { describeRoute, installApiContract } from './infrastructure/http/api-contract.js'
import { loggableUrl, loggerOptions } from './infrastructure/logging.js'
import { Representations } from './infrastructure/http/representations.js'
import { installHardening } from './infrastructure/http/hardening.js'
import { InFlightHandlers } from './infrastructure/http/in-flight.js'
import { openDataIntegrity, type DataIntegrity } from './infrastructure/signing/pool.js'
import { installIdempotency } from './capabilities/staff-access/idempotency.js'
import { installJsonBodyParser } from './infrastructure/http/json-body.js'
import jsonLdReply from './infrastructure/http/json-ld-reply.js'
import { validatorCompiler } from './infrastructure/http/validator-compiler.js'
import { issuerRoutes } from './channels/api/issuers.js'
import { JOBS_ADDED, openJobQueue, type JobQueue } from './infrastructure/jobs/job-queue.js'
import type { KeyRing } from './capabilities/keys/key-ring.js'
import { followKeyChanges } from './capabilities/keys/key-ring-refresh.js'
import { keyRoutes } from './channels/api/keys.js'
import { createMailer, type Mailer } from './capabilities/notifications/email/mailer.js'
import { databaseOutbox, type Outbox } from './infrastructure/jobs/outbox.js'
import { fanOutInTransaction } from './capabilities/notifications/fan-out.js'
import { unsubscribeRoutes } from './channels/holder-pages/unsubscribe-routes.js'
import { webhookRoutes } from './channels/api/webhooks.js'
import { registryRoutes } from './channels/api/registry.js'
import { continuingEducationRoutes } from './channels/api/continuing-education.js'
import { recognisedIssuers, type RecognisedIssuers } from './capabilities/registry/lookup.js'
import { startJobWorkers } from './background-jobs.js'
import { BackgroundTasks } from './infrastructure/jobs/background.js'
import { orderRoutes } from './channels/portal/order-routes.js'
import { portalRoutes } from './channels/portal/routes.js'
import { installCookies } from './capabilities/holders/sessions.js'
import { publicUrls, type PublicUrls } from './kernel/public-urls.js'
import { installBearerAuth } from './capabilities/staff-access/bearer-auth.js'
import { apiKeyRoutes } from './channels/api/api-keys.js'
import { statusListPolicy, type StatusListPolicy } from './capabilities/status-lists/policy.js'
import { statusListRoutes, type ServedStatusList } from './channels/api/status-lists.js'
import { systemClock, type Clock } from './kernel/time.js'
import { verificationRoutes } from './channels/api/verification.js'
import { presentationRoutes } from './channels/api/presentations.js'
import { databaseSources } from './capabilities/verification/database-sources.js'
import { foreignResolvers } from './capabilities/verification/foreign/foreign-sources.js'
import { HttpCache } from './infrastructure/outbound/http-cache.js'
import type { OutboundForTests } from './infrastructure/outbound/outbound.js'
import { OwnRecordsCache } from './capabilities/verification/own-records-cache.js'
import { PureCheckCache } from './capabilities/verification/pure-check-cache.js'
import type { Verifier } from './capabilities/verification/verify-credential.js'
import { createMetrics, installRequestMetrics, type Metrics } from './infrastructure/observability/metrics.js'
import { metricsAccess, metricsRoutes } from './channels/api/metrics.js'
import { installRequestTracing, startTracing } from './infrastructure/tracing/tracing.js'
import { traceStatements } from './infrastructure/tracing/traced-sql.js'
import { achievementDesignPublicRoutes, achievementDesignRoutes } from './channels/api/achievement-design.js'
import { lookupRoutes } from './channels/holder-pages/lookup-routes.js'
import { usageRoutes } from './channels/api/usage.js'
import { installUsageCounting } from './capabilities/usage/counting.js'
import { consoleRoutes } from './channels/console/routes.js'
import { openBadgesOAuthRoutes } from './channels/open-badges-api/oauth-routes.js'
import { openBadgesResourceRoutes } from './channels/open-badges-api/resource-routes.js'
import { openBadgesHostCallbackRoutes, openBadgesHostStaffRoutes } from './channels/api/open-badges-hosts.js'
import { openAuthorizationServer, type AuthorizationServer } from './capabilities/open-badges-api/authorization-server.js'
import { OB_SCOPE_WORDS } from './capabilities/open-badges-api/scopes.js'
import { walletOfferRoutes } from './channels/wallets/offer-routes.js'
import { vcApiExchangeRoutes } from './channels/wallets/vc-api-exchange-routes.js'
import { oid4vciRoutes } from './channels/wallets/oid4vci-routes.js'
import { vcApiIssuerRoutes } from './channels/api/vc-api-issuer-routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    sql: Sql
    keyRing: KeyRing
    urls: PublicUrls
    clock: Clock
    statusListPolicy: StatusListPolicy
    /** The job queue (pg-boss over the same pool) and the outbox that adds events to it in a transaction. */
    jobs: JobQueue
    outbox: Outbox
    /** Sends the portal's sign-in links (every process); the notification workers' emails use their own. */
    mailer: Mailer
    /** Work that runs after a response (sign-in emails); close waits for it. */
    background: BackgroundTasks
    /** Served documents kept in memory, dropped when any instance changes them (caching/). */
    documents: { credentials: DocumentCache<ServedVersion>, statusLists: DocumentCache<ServedStatusList> }
    /** This app's change feed: announcing through it drops the key from its own caches at once. */
    changes: ChangeAnnouncer
    /** Where this app's Data Integrity work runs (its own threads, closed with it). */
    dataIntegrity: DataIntegrity
    /** What this app verifies with: its sources, its Data Integrity threads and its cache of content-only checks. */
    verifier: Verifier
    /** The registry of recognised issuers, held in memory and dropped when any instance changes it. */
    recognisedIssuers: RecognisedIssuers
    /** Every route as registered, for the tests that walk the route table and for the API contract. */
    routeTable: readonly RouteOptions[]
    /** Representations one channel adds to another's resources (the credential's HTML page). */
    representations: Representations
    /** This app's Prometheus metrics (served at /metrics, and on METRICS_PORT by server.ts). */
    metrics: Metrics
    /** The Open Badges API's OAuth 2.0 authorization server (oidc-provider, its state in PostgreSQL). */
    authorizationServer: AuthorizationServer
  }
}

export interface AppDependencies {
  config: Config
  sql: Sql
  keyRing: KeyRing
  clock?: Clock
  /** Overrides of the status-list size, capacity and draws (tests fill small lists). */
  statusLists?: Partial<StatusListPolicy>
  /** A pino logger to use (server.ts shares its boot logger); `false` silences logging (tests). */
  logger?: FastifyBaseLogger | false
  /** A job queue already open (the caller then closes it); by default the app opens its own. */
  jobs?: JobQueue
  /** Data Integrity threads already open (the caller then closes them; tests share one); by default the app opens its own. */
  dataIntegrity?: DataIntegrity
  /** The change feed's NOTIFY channel; every instance of a deployment shares the default (tests break it with another). */
  changesChannel?: string
  /** How long the verifier's copies of keys and status records live unheard of (own-records-cache.ts; tests stretch or shrink it). */
  ownRecordsTtlMs?: number
  /** Tests only: loopback stand-ins for public hosts named in signed documents, for the verifier's fetches (OutboundForTests). */
  outboundForTests?: OutboundForTests
}

/** How long closing waits for request handlers still running (server.ts bounds the whole shutdown at 15 s). */
const HANDLERS_BOUND_MS = 8_000

/**
 * Builds the Fastify app: shared dependencies as decorators, the error
 * catalogue, then the routes of each capability. Listening is server.ts's job;
 * tests call this directly.
 */
export async function buildApp (deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger === undefined
      ? { logger: loggerOptions(deps.config.logLevel) }
      : deps.logger === false ? { logger: false } : { loggerInstance: deps.logger }),
    bodyLimit: 1024 * 1024,
    // One line per request, written in onResponse below (Fastify's own two lines would log raw URLs).
    logController: new LogController({ disableRequestLogging: true }),
    // Honour X-Forwarded-* only when the deployer says a proxy is in front (TRUST_PROXY).
    // (A number is a hop count; Fastify accepts it, its types only list the other forms.)
    trustProxy: deps.config.trustProxy as boolean | string
  })
  // Traces when an OTLP endpoint is configured (OTEL_*): the first hooks, and the pool's statements; closed with the app.
  const tracing = deps.config.tracing === undefined ? undefined : await startTracing(deps.config.tracing)
  if (tracing !== undefined) {
    installRequestTracing(app)
    app.addHook('onClose', tracing.shutdown)
  }
  // Before any route: closing waits for the handlers still running (in-flight.ts).
  const inFlight = new InFlightHandlers()
  inFlight.install(app)
  const routeTable: RouteOptions[] = []
  app.addHook('onRoute', (route) => {
    describeRoute(route)
    routeTable.push(route)
  })
  app.decorate('routeTable', routeTable)
  app.decorate('representations', new Representations())
  app.setValidatorCompiler(validatorCompiler)
  // JSON only: a text/plain body gets 415 rather than a confusing schema error.
  app.removeContentTypeParser('text/plain')
  installJsonBodyParser(app)
  app.decorate('config', deps.config)
  app.decorate('sql', tracing === undefined ? deps.sql : traceStatements(deps.sql))
  app.decorate('keyRing', deps.keyRing)
  app.decorate('urls', publicUrls(deps.config.publicBaseUrl))
  app.decorate('clock', deps.clock ?? systemClock)
  app.decorate('statusListPolicy', statusListPolicy(deps.statusLists))
  const metrics = createMetrics({ sql: deps.sql, poolMax: deps.sql.options.max, dataIntegrityThreadsMax: deps.config.dataIntegrityThreads })
  app.decorate('metrics', metrics)
  // State this app owns, closed with it (onClose below): caches, its change feed, its Data Integrity threads.
  const documents = { credentials: new DocumentCache<ServedVersion>(32 * 1024 * 1024), statusLists: new DocumentCache<ServedStatusList>(8 * 1024 * 1024) }
  app.decorate('documents', documents)
  // The signing keys reload when a rotation or compromise commits anywhere (no polling).
  const keys = followKeyChanges(deps.keyRing, { info: (m) => { app.log.info(m) }, error: (details, m) => { app.log.error(details, m) } })
  const { notifications } = deps.config
  const runWorkers = notifications.worker === 'inline'
  const jobs = deps.jobs ?? await openJobQueue(deps.sql, { run: runWorkers, policy: notifications.jobs, onError: (error) => { app.log.warn({ err: error }, 'job queue') } })
  app.decorate('jobs', jobs)
  const registry = recognisedIssuers(deps.sql)
  app.decorate('recognisedIssuers', registry)
  // The verifier's copies of our own keys and status records, dropped on the same feed.
  const ownRecords = new OwnRecordsCache(deps.ownRecordsTtlMs === undefined ? {} : { ttlMs: deps.ownRecordsTtlMs })
  const changes = await openChangeFeedFor(deps.config.database, deps.sql, {
    onChange: (key) => {
      ownRecords.onChange(key)
      if (key.startsWith('credential:')) documents.credentials.invalidate(key)
      else if (key.startsWith('status-list:')) documents.statusLists.invalidate(key)
      else if (key.startsWith(JOBS_ADDED)) jobs.onChange(key)
      else { keys.onChange(key); registry.onChange(key) }
    },
    onReset: () => { ownRecords.clear(); documents.credentials.clear(); documents.statusLists.clear(); keys.reload(); registry.reset() }
  }, deps.changesChannel)
  app.decorate('changes', changes)
  // Sign and verify on worker threads, so every core works.
  const dataIntegrity = metrics.observeDataIntegrity(deps.dataIntegrity ?? openDataIntegrity({ threads: deps.config.dataIntegrityThreads, heapMb: 96, onError: (error) => { app.log.warn({ err: error }, 'Data Integrity thread failed') } }))
  app.decorate('dataIntegrity', dataIntegrity)
  // An app that opened its own threads is ready once one of them has loaded JSON-LD and the
  // suites (about a second, more on a loaded machine): otherwise the first verification after
  // boot spends that inside its time budget and can answer indeterminate.
  if (deps.dataIntegrity === undefined) app.addHook('onReady', async () => { await dataIntegrity.run({ kind: 'ready' }) })
  const pureChecks = new PureCheckCache(8 * 1024 * 1024)
  // Other issuers' keys and status lists, through the outbound client and this app's cache (in memory, dropped with it).
  const { allowLoopback } = deps.config.outbound
  const outboundCache = new HttpCache({ allowLoopback, ...(deps.outboundForTests !== undefined ? { forTests: deps.outboundForTests } : {}), log: { debug: (details, message) => { app.log.debug(details, message) } } })
  const sources = databaseSources(deps.sql, app.urls, registry, deps.config.verifyClockLeewaySeconds, undefined, foreignResolvers(outboundCache, allowLoopback), ownRecords)
  app.decorate('verifier', { sources, dataIntegrity, pureChecks, timeBudgetMs: deps.config.verifyTimeBudgetMs })
  // Events are fanned out (webhook deliveries, emails, their jobs) in the transaction that records them.
  app.decorate('outbox', databaseOutbox(jobs, fanOutInTransaction({ jobs, clock: app.clock })))
  // Every process sends sign-in links (they are not queued: the token is never stored in clear).
  const mailer = createMailer({ smtpUrl: notifications.smtpUrl, from: notifications.mailFrom, dataDir: deps.config.dataDir, timeoutSeconds: notifications.smtpTimeoutSeconds })
  app.decorate('mailer', mailer)
  // The Open Badges API's OAuth 2.0 server: oidc-provider, its state in PostgreSQL, so any instance serves any token.
  app.decorate('authorizationServer', await openAuthorizationServer({ sql: deps.sql, issuer: deps.config.publicBaseUrl, resource: `${deps.config.publicBaseUrl}/ims/ob/v3p0`, proxy: deps.config.trustProxy !== false }))
  const background = new BackgroundTasks((error) => { app.log.error({ err: error }, 'background task failed') })
  app.decorate('background', background)
  if (runWorkers) {
    app.addHook('onReady', async () => {
      await startJobWorkers({ sql: app.sql, jobs, outbox: app.outbox, mailer, urls: app.urls, config: deps.config, clock: app.clock, log: app.log, keyRing: deps.keyRing, dataIntegrity, changes })
    })
  }
  app.addHook('onClose', async () => {
    // The server has stopped taking requests; handlers whose clients left may still run.
    if (!await inFlight.settled(HANDLERS_BOUND_MS)) app.log.warn(`${inFlight.size} request handler(s) still running after ${HANDLERS_BOUND_MS} ms: closing anyway`)
    await changes.close()
    await keys.settled()
    await background.settled()
    if (deps.jobs === undefined) await jobs.stop()
    mailer.close()
    if (deps.dataIntegrity === undefined) await dataIntegrity.close()
    pureChecks.clear()
  })

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: loggableUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime), ip: request.ip }, 'request')
  })
  installRequestMetrics(app, metrics)
  installUsageCounting(app)
  installErrorHandling(app)
  await installHardening(app)
  await installApiContract(app, { oauthScopes: OB_SCOPE_WORDS })
  const cookieSecret = await installCookies(app)
  await app.register(jsonLdReply)

  await app.register(healthRoutes)
  await app.register(metricsRoutes, { metrics, access: metricsAccess(deps.config.metrics) })
  await app.register(issuerRoutes)
  await app.register(keyRoutes)
  await app.register(achievementPublicRoutes)
  await app.register(achievementDesignPublicRoutes)
  await app.register(credentialPublicRoutes)
  await app.register(holderPageRoutes)
  await app.register(homeRoutes)
  await app.register(statusListRoutes)
  await app.register(verificationRoutes)
  await app.register(presentationRoutes)
  await app.register(unsubscribeRoutes)
  await app.register(portalRoutes, { cookieSecret })
  await app.register(lookupRoutes)
  await app.register(consoleRoutes, { cookieSecret })
  await app.register(openBadgesOAuthRoutes)
  await app.register(openBadgesResourceRoutes)
  await app.register(openBadgesHostCallbackRoutes)
  await app.register(walletOfferRoutes)
  await app.register(vcApiExchangeRoutes)
  await app.register(oid4vciRoutes)

  await app.register(async (staff) => {
    installBearerAuth(staff, deps.config.adminApiKey)
    installIdempotency(staff)
    await staff.register(achievementStaffRoutes)
    await staff.register(credentialStaffRoutes)
    await staff.register(auditRoutes)
    await staff.register(apiKeyRoutes)
    await staff.register(webhookRoutes)
    await staff.register(orderRoutes)
    await staff.register(registryRoutes)
    await staff.register(continuingEducationRoutes)
    await staff.register(achievementDesignRoutes)
    await staff.register(usageRoutes)
    await staff.register(openBadgesHostStaffRoutes)
  }, { prefix: '/api/v1' })

  // The W3C VC API issuer routes, at the paths that API names (staff keys, like /api/v1).
  await app.register(async (staff) => {
    installBearerAuth(staff, deps.config.adminApiKey)
    installIdempotency(staff)
    await staff.register(vcApiIssuerRoutes)
  })

  return app
}
