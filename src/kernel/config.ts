import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The service's configuration, read once from the environment at boot. */
/**
 * How far a validFrom (and so a VC-JWT nbf, which must equal it) may lie
 * ahead of the verifier's clock and still count as begun, in seconds.
 * NTP-synchronised clocks agree within a second, but other issuers' clocks
 * are not ours, and JWT libraries commonly allow 30 to 300 s on nbf (jose's
 * clockTolerance, Microsoft.IdentityModel's 5 minute ClockSkew); the W3C and
 * Open Badges specifications say nothing. A minute covers a badly drifting
 * clock and a version answered a moment ago, and is too short to matter for
 * a period that starts on a date. Expiry gets no leeway: validUntil / exp are
 * judged exactly, so a credential is never called valid after it ended.
 */
export const DEFAULT_CLOCK_LEEWAY_SECONDS = 60

/** Upper bound of the setting: Kerberos's default maximum skew; beyond it, it is no longer clock skew. */
export const MAX_CLOCK_LEEWAY_SECONDS = 300

/**
 * How long a migration's statements may wait for a table lock (ms). An ALTER
 * TABLE queued behind a long transaction blocks every later query on that
 * table while it waits, so it must give up quickly: the service's requests
 * stall at most this long, then the migration is rolled back and tried again
 * (src/infrastructure/db/migrate.ts). Two seconds is well under the service's
 * 15 s statement timeout: a request queued behind the migration still answers.
 */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 2000
/**
 * How long an SMTP conversation may stall (connecting, the greeting, any
 * reply) before the send fails and its job is retried. Mail services that
 * take submissions answer in seconds; nodemailer's own defaults (2 minutes to
 * connect, 10 minutes of silence) outlive the job that sends, so a stalled
 * server held a worker after pg-boss had expired and retried its job.
 */
export const DEFAULT_SMTP_TIMEOUT_SECONDS = 30

export interface Config {
  /**
   * NODE_ENV=production: the service refuses to start unless it has a real
   * database, real keys, a staff key and an https base URL. No development
   * keys, embedded database or generated staff key, ever.
   */
  readonly production: boolean
  readonly port: number
  readonly host: string
  /** Origin and optional path prefix every public id and URL is built from; no trailing slash. */
  readonly publicBaseUrl: string
  /** When absent, server.ts starts an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined
  /**
   * Whether the service (and worker, and admin CLI) applies pending migrations
   * when it starts. Default: only on the embedded development database; with
   * DATABASE_URL a deployment migrates once (`npm run db:migrate`), and an
   * instance on a database that is behind refuses to start.
   */
  readonly migrateOnBoot: boolean
  /** Milliseconds a migration may wait for a table lock before it is rolled back and retried. */
  readonly migrationLockTimeoutMs: number
  readonly dataDir: string
  /** Where signing key files live; defaults to `<dataDir>/keys` (development keys are generated there). */
  readonly keysDir: string
  readonly keysDirConfigured: boolean
  readonly adminApiKey: string | undefined
  /** Seals the signing keys in a backup (`npm run backup` / `restore`); read only by those commands. At least 16 characters. */
  readonly backupPassphrase: string | undefined
  readonly logLevel: string
  /**
   * Seeds the registry of recognised issuers at boot (boot.ts; ids staff have
   * removed stay removed). The verifier asks the registry, not this list: only
   * a recognised issuer's self-asserted keys (did:key, `<issuer>#z6Mk…`, a
   * VC-JWT `jwk`) or published keys bind as its own; anyone else's credential
   * verifies as `unverified_issuer`, never `valid`.
   */
  readonly trustedIssuers: readonly string[]
  /**
   * Seconds a credential's validFrom (VC-JWT nbf) may lie ahead of this
   * server's clock and still verify; validUntil / exp get none. Default and
   * reasons: DEFAULT_CLOCK_LEEWAY_SECONDS (below).
   */
  readonly verifyClockLeewaySeconds: number
  /**
   * Milliseconds one verification may take before it answers indeterminate
   * (fail closed): other issuers' keys and status lists are fetched inside it.
   */
  readonly verifyTimeBudgetMs: number
  /** The issuer created (or updated) at boot: the certifying body. */
  readonly issuer: {
    readonly id: string
    readonly name: string
    /** False when ISSUER_NAME is unset and the development default signs (server.ts warns). */
    readonly named: boolean
    readonly url: string | undefined
    readonly email: string | undefined
    readonly description: string | undefined
  }
  /**
   * Fastify's trustProxy: whether (and which) X-Forwarded-* headers to believe,
   * so client IPs and rate limits are right behind a load balancer.
   */
  readonly trustProxy: boolean | number | string
  /** Load shedding: past this event-loop delay, requests get 503 with Retry-After (0 turns it off). */
  readonly maxEventLoopDelayMs: number
  /** Worker threads for Data Integrity signing and verification (0: on the event loop), per process. */
  readonly dataIntegrityThreads: number
  /**
   * WEB_CONCURRENCY: how many service processes `server.ts` runs (Node's
   * cluster module, one port); default one per core. 1 runs no cluster.
   */
  readonly webConcurrency: number
  /** How the service reaches PostgreSQL. */
  readonly database: {
    /**
     * DATABASE_POOLER=transaction: DATABASE_URL points at a pooler in
     * transaction mode (PgBouncer): no session state on pooled connections
     * (no prepared statements, no LISTEN, no startup parameters; timeouts per
     * transaction). 'none' (default): a direct connection.
     */
    readonly pooler: 'none' | 'transaction'
    /**
     * DATABASE_DIRECT_URL: a direct (not pooled) connection for what needs a
     * session: the change feed's LISTEN. Behind a pooler without it, instances
     * poll for changes instead.
     */
    readonly directUrl: string | undefined
  }
  readonly portal: {
    /** How long a holder stays signed in to /account (hours, from sign-in). */
    readonly sessionHours: number
    /** Sign-in links sent to one address in an hour, at most; further requests get the same answer and no email. */
    readonly signInLinksPerAddressPerHour: number
  }
  /**
   * The body's OpenID Connect provider, for staff single sign-on in the console
   * (STAFF_OIDC_ISSUER, STAFF_OIDC_CLIENT_ID, STAFF_OIDC_CLIENT_SECRET[_FILE],
   * STAFF_OIDC_NAME); absent: passkeys only.
   */
  readonly staffSingleSignOn?: {
    readonly name: string
    readonly issuer: string
    readonly clientId: string
    readonly clientSecret: string
  }
  readonly rateLimits: {
    /** Verifications per client IP per minute (POST /credentials/verify, POST /verify). */
    readonly verifyPerMinute: number
    /** Holder form posts (sign-in link requests, badge orders, correction requests) per client IP per minute. */
    readonly formsPerMinute: number
    /** Public lookups (credential URLs, their files, status lists, keys) per client IP per minute. */
    readonly lookupPerMinute: number
    /** Failed staff authentications per client IP per minute before 429. */
    readonly failedAuthPerMinute: number
  }
  /** How the holder pages, images and PDFs look: the certifying body's logo and colours. */
  readonly branding: {
    /** An https or data: URL of the issuer's logo, shown on the pages. */
    readonly logoUrl: string | undefined
    /** The main colour (#rrggbb): headers, badge ring. */
    readonly primaryColor: string
    /** The accent colour (#rrggbb): links and buttons. */
    readonly accentColor: string
    /** LinkedIn's numeric organization id, used by "Add to profile" instead of the name when set. */
    readonly linkedInOrganizationId: string | undefined
  }
  /** The service's calls to other servers (webhooks, pasted links, achievement images, other issuers' keys and lists). */
  readonly outbound: {
    /**
     * Development only (OUTBOUND_ALLOW_LOOPBACK): every outbound path may reach
     * http://localhost, http://127.0.0.1 and http://[::1], so tests and demos can
     * stand up servers on loopback. Nothing else relaxes: private ranges stay refused.
     */
    readonly allowLoopback: boolean
  }
  /**
   * Prometheus metrics (GET /metrics). With METRICS_TOKEN, /metrics asks for it
   * as a bearer token; with METRICS_PORT, a second listener on HOST serves only
   * /metrics, with no token (keep that port on the deployment's private
   * network), and the main port's /metrics then needs the token or is absent.
   * Production needs one of the two. Neither set (development): /metrics is open.
   */
  readonly metrics: {
    readonly token: string | undefined
    readonly port: number | undefined
  }
  /**
   * Traces (OpenTelemetry), on only when an OTLP endpoint is set:
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT
   * with /v1/traces appended (the OTLP exporter convention); spans go there as
   * OTLP/HTTP JSON under OTEL_SERVICE_NAME (default "tessera"). Undefined: off,
   * and the SDK is never loaded.
   */
  readonly tracing: { readonly tracesUrl: string, readonly serviceName: string } | undefined
  /** Email and webhooks (src/notifications). */
  readonly notifications: {
    /** 'inline': this process runs the job workers (the default); 'off': it only adds jobs (run `npm run worker` elsewhere). */
    readonly worker: 'inline' | 'off'
    /** smtp:// or smtps:// URL; absent: emails are written as .eml files under <dataDir>/outbox-mail. */
    readonly smtpUrl: string | undefined
    /** An SMTP stall that fails the send; a whole message is given up after twice this (see DEFAULT_SMTP_TIMEOUT_SECONDS). */
    readonly smtpTimeoutSeconds: number
    readonly mailFrom: string
    /** A folder of template overrides: <kind>.<part>.eta, or <issuerId>/<kind>.<part>.eta. */
    readonly emailTemplatesDir: string | undefined
    /** Days before validUntil at which reminders go out, largest first. */
    readonly reminderDays: readonly number[]
    /** Cron of the due-reminder scan. */
    readonly scanCron: string
    /** Cron of the re-signing of status lists that will soon expire. */
    readonly statusListRefreshCron: string
    /** Cron of the deletion of the portal's ended sessions and sign-in tokens. */
    readonly portalPurgeCron: string
    /** Job timings (seconds): crash expiry, first retry delay, supervisor interval, idle polling. */
    readonly jobs: { readonly expireInSeconds: number, readonly retryDelaySeconds: number, readonly maintenanceIntervalSeconds: number, readonly pollingIntervalSeconds: number }
  }
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * What the configuration is for: the service (and worker and admin CLI), or
 * only the migrate command, which in production needs DATABASE_URL and none
 * of the service's secrets (no signing keys mounted into a migration job).
 */
export interface LoadOptions { readonly purpose?: 'service' | 'migrate' }

/**
 * Builds the configuration from an environment (process.env by default) and
 * reports every problem at once, so that a bad deployment fails with one clear message.
 */
export function loadConfig (env: Record<string, string | undefined> = process.env, options: LoadOptions = {}): Config {
  const problems: string[] = []
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  // A secret may come from a file instead (X_FILE, as compose and Kubernetes mount secrets): its
  // content, trimmed, stands for X. Both set is refused rather than one of them silently winning.
  const secretFile = (fileVariable: string): string | undefined => {
    const file = get(fileVariable)
    if (file === undefined) return undefined
    const variable = fileVariable.replace(/_FILE$/, '')
    if (get(variable) !== undefined) {
      problems.push(`"${variable}" and "${fileVariable}" are both set: set one of them.`)
      return undefined
    }
    try {
      const content = readFileSync(file, 'utf8').trim()
      if (content === '') problems.push(`"${fileVariable}" names an empty file (${file}).`)
      return content === '' ? undefined : content
    } catch (error) {
      problems.push(`"${fileVariable}" names a file that cannot be read (${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}).`)
      return undefined
    }
  }

  const port = Number(get('PORT') ?? '3000')
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`"PORT" must be an integer from 0 to 65535, got "${get('PORT')}".`)
  }

  let publicBaseUrl = get('PUBLIC_BASE_URL') ?? `http://localhost:${port}`
  try {
    const url = new URL(publicBaseUrl)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol')
    if (url.search !== '' || url.hash !== '') throw new Error('query')
    publicBaseUrl = url.href.replace(/\/+$/, '')
  } catch {
    problems.push(`"PUBLIC_BASE_URL" must be an absolute http(s) URL without query or fragment, got "${publicBaseUrl}".`)
  }

  const databaseUrl = secretFile('DATABASE_URL_FILE') ?? get('DATABASE_URL')
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('"DATABASE_URL" must be a postgres:// or postgresql:// URL.')
  }

  const databasePooler = get('DATABASE_POOLER') ?? 'none'
  if (databasePooler !== 'none' && databasePooler !== 'transaction') problems.push(`"DATABASE_POOLER" must be "none" or "transaction", got "${databasePooler}".`)
  const databaseDirectUrl = secretFile('DATABASE_DIRECT_URL_FILE') ?? get('DATABASE_DIRECT_URL')
  if (databaseDirectUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseDirectUrl)) {
    problems.push('"DATABASE_DIRECT_URL" must be a postgres:// or postgresql:// URL.')
  }

  const dataDir = path.resolve(get('DATA_DIR') ?? './.data')
  const keysDirValue = get('KEYS_DIR')
  const adminApiKey = secretFile('ADMIN_API_KEY_FILE') ?? get('ADMIN_API_KEY')
  const backupPassphrase = secretFile('BACKUP_PASSPHRASE_FILE') ?? get('BACKUP_PASSPHRASE')
  if (backupPassphrase !== undefined && backupPassphrase.length < 16) problems.push('"BACKUP_PASSPHRASE" must be at least 16 characters long.')
  if (adminApiKey !== undefined && adminApiKey.length < 32) {
    problems.push('"ADMIN_API_KEY" must be at least 32 characters long (generate one with `openssl rand -base64 32`).')
  }

  const logLevel = get('LOG_LEVEL') ?? 'info'
  const trustedIssuers = (get('TRUSTED_ISSUERS') ?? '').split(/[\s,]+/).filter((id) => id !== '')
  for (const id of trustedIssuers) {
    if (!URL.canParse(id)) problems.push(`"TRUSTED_ISSUERS" must list absolute issuer ids (URLs or DIDs) separated by commas or spaces, got "${id}".`)
  }
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`"LOG_LEVEL" must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}".`)
  }

  const issuerId = get('ISSUER_ID') ?? 'main'
  if (!SLUG.test(issuerId)) {
    problems.push('"ISSUER_ID" must be lower-case letters, digits and dashes (it appears in URLs).')
  }
  const issuerUrl = get('ISSUER_URL')
  if (issuerUrl !== undefined && !URL.canParse(issuerUrl)) problems.push('"ISSUER_URL" must be an absolute URL.')
  const issuerEmail = get('ISSUER_EMAIL')
  if (issuerEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(issuerEmail)) problems.push('"ISSUER_EMAIL" must be an email address.')

  const logoUrl = get('BRAND_LOGO_URL')
  if (logoUrl !== undefined && !/^(https:\/\/|data:image\/)/.test(logoUrl)) problems.push('"BRAND_LOGO_URL" must be an https: or data:image/ URL.')
  const color = (name: string, fallback: string): string => {
    const value = get(name) ?? fallback
    if (!/^#[0-9a-fA-F]{6}$/.test(value)) problems.push(`"${name}" must be a colour like #1f4e79, got "${value}".`)
    return value
  }
  const primaryColor = color('BRAND_PRIMARY_COLOR', '#1f3a5f')
  const accentColor = color('BRAND_ACCENT_COLOR', '#0b6e4f')
  const linkedInOrganizationId = get('LINKEDIN_ORGANIZATION_ID')
  if (linkedInOrganizationId !== undefined && !/^\d{1,20}$/.test(linkedInOrganizationId)) problems.push('"LINKEDIN_ORGANIZATION_ID" must be LinkedIn\'s numeric organization id.')

  const trustProxyValue = get('TRUST_PROXY')
  const trustProxy: boolean | number | string = trustProxyValue === undefined || trustProxyValue === 'false'
    ? false
    : trustProxyValue === 'true' ? true : /^\d+$/.test(trustProxyValue) ? Number(trustProxyValue) : trustProxyValue
  const perMinute = (name: string, fallback: number): number => {
    const value = get(name)
    if (value === undefined) return fallback
    if (!/^[1-9]\d{0,6}$/.test(value)) problems.push(`"${name}" must be a whole number of requests per minute, got "${value}".`)
    return Number(value)
  }
  const maxEventLoopDelayValue = get('MAX_EVENT_LOOP_DELAY_MS') ?? '2000'
  if (!/^\d{1,6}$/.test(maxEventLoopDelayValue)) problems.push(`"MAX_EVENT_LOOP_DELAY_MS" must be a number of milliseconds, got "${maxEventLoopDelayValue}".`)
  const maxEventLoopDelayMs = Number(maxEventLoopDelayValue)
  const rateLimits = Object.freeze({
    verifyPerMinute: perMinute('RATE_LIMIT_VERIFY_PER_MINUTE', 60),
    lookupPerMinute: perMinute('RATE_LIMIT_LOOKUP_PER_MINUTE', 600),
    failedAuthPerMinute: perMinute('RATE_LIMIT_FAILED_AUTH_PER_MINUTE', 20),
    formsPerMinute: perMinute('RATE_LIMIT_FORMS_PER_MINUTE', 10)
  })
  const wholeNumber = (name: string, fallback: number, max: number, min = 1): number => {
    const value = get(name)
    if (value === undefined) return fallback
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) problems.push(`"${name}" must be a whole number from ${min} to ${max}, got "${value}".`)
    return Number(value)
  }
  // One core stays with the event loop (HTTP, the database); Data Integrity work gets the rest,
  // at least one thread (measured on 2 cores: one thread beat two, and none).
  const verifyClockLeewaySeconds = wholeNumber('VERIFY_CLOCK_LEEWAY_SECONDS', DEFAULT_CLOCK_LEEWAY_SECONDS, MAX_CLOCK_LEEWAY_SECONDS, 0)
  const verifyTimeBudgetMs = wholeNumber('VERIFY_TIME_BUDGET_MS', 5_000, 60_000, 500)
  const cores = os.availableParallelism()
  const webConcurrency = wholeNumber('WEB_CONCURRENCY', cores, 256)
  // Per process: the cores the processes leave over, at least one thread each.
  const dataIntegrityThreads = wholeNumber('DATA_INTEGRITY_THREADS', Math.max(1, Math.floor(cores / webConcurrency) - 1), 64, 0)
  const portal = Object.freeze({
    sessionHours: wholeNumber('PORTAL_SESSION_HOURS', 12, 24 * 30),
    signInLinksPerAddressPerHour: wholeNumber('SIGN_IN_LINKS_PER_ADDRESS_PER_HOUR', 5, 1000)
  })

  const production = get('NODE_ENV') === 'production'

  const migrateOnBootValue = get('MIGRATE_ON_BOOT')
  if (migrateOnBootValue !== undefined && migrateOnBootValue !== 'true' && migrateOnBootValue !== 'false') problems.push(`"MIGRATE_ON_BOOT" must be "true" or "false", got "${migrateOnBootValue}".`)
  const migrateOnBoot = migrateOnBootValue === undefined ? databaseUrl === undefined && !production : migrateOnBootValue === 'true'
  const migrationLockTimeoutMs = wholeNumber('MIGRATION_LOCK_TIMEOUT_MS', DEFAULT_MIGRATION_LOCK_TIMEOUT_MS, 600_000, 10)

  const otlpBase = get('OTEL_EXPORTER_OTLP_ENDPOINT')
  const tracesUrl = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (otlpBase === undefined ? undefined : `${otlpBase.replace(/\/+$/, '')}/v1/traces`)
  if (tracesUrl !== undefined && !/^https?:\/\/[^/?#]+/.test(tracesUrl)) problems.push(`"OTEL_EXPORTER_OTLP_ENDPOINT" (or "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") must be an http(s) URL, got "${tracesUrl}".`)
  const tracing = tracesUrl === undefined ? undefined : Object.freeze({ tracesUrl, serviceName: get('OTEL_SERVICE_NAME') ?? 'tessera' })

  const worker = get('WORKER') ?? 'inline'
  if (worker !== 'inline' && worker !== 'off') problems.push(`"WORKER" must be "inline" or "off", got "${worker}".`)
  const smtpUrl = secretFile('SMTP_URL_FILE') ?? get('SMTP_URL')
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) problems.push('"SMTP_URL" must be an smtp:// or smtps:// URL.')
  const mailFrom = get('MAIL_FROM')
  if (mailFrom !== undefined && !/^[^\r\n]*<?[^@\s<>]+@[^@\s<>]+>?$/.test(mailFrom)) problems.push('"MAIL_FROM" must be an address, optionally with a name: "AAMA Badges <badges@aama-ntl.org>".')
  const reminderDaysValue = get('REMINDER_DAYS') ?? '90,30'
  const reminderDays = reminderDaysValue === 'none' ? [] : reminderDaysValue.split(',').map((d) => Number(d.trim()))
  if (reminderDays.some((d) => !Number.isInteger(d) || d < 1 || d > 3650)) problems.push(`"REMINDER_DAYS" must be whole numbers of days separated by commas (e.g. 90,30), or "none"; got "${reminderDaysValue}".`)
  reminderDays.sort((a, b) => b - a)
  const allowLoopbackValue = get('OUTBOUND_ALLOW_LOOPBACK')
  if (allowLoopbackValue !== undefined && allowLoopbackValue !== 'true' && allowLoopbackValue !== 'false') problems.push(`"OUTBOUND_ALLOW_LOOPBACK" must be "true" or "false", got "${allowLoopbackValue}".`)
  const allowLoopback = allowLoopbackValue === 'true'
  // Refused rather than read as an alias: it is a development switch, a clear stop names the fix in one
  // line, and an alias would quietly keep the old name alive in .env files (and say nothing in the worker).
  if (get('WEBHOOKS_ALLOW_HTTP_LOCALHOST') !== undefined) problems.push('"WEBHOOKS_ALLOW_HTTP_LOCALHOST" was replaced by "OUTBOUND_ALLOW_LOOPBACK", which covers every outbound call (webhooks, pasted links, images, other issuers\' keys and status lists): rename it.')
  const seconds = (name: string, fallback: number, min = 1): number => {
    const value = get(name)
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isFinite(n) || n < min || n > 86400) problems.push(`"${name}" must be a number of seconds from ${min} to 86400, got "${value}".`)
    return n
  }
  const jobs = Object.freeze({
    expireInSeconds: seconds('JOB_EXPIRE_SECONDS', 120),
    retryDelaySeconds: seconds('JOB_RETRY_DELAY_SECONDS', 30),
    maintenanceIntervalSeconds: seconds('JOB_MAINTENANCE_SECONDS', 30),
    pollingIntervalSeconds: seconds('JOB_POLL_SECONDS', 2, 0.5)
  })
  const smtpTimeoutSeconds = seconds('SMTP_TIMEOUT_SECONDS', DEFAULT_SMTP_TIMEOUT_SECONDS)
  // A send must end before its job expires, or pg-boss retries a job whose first attempt is still sending.
  if (smtpUrl !== undefined && 2 * smtpTimeoutSeconds >= jobs.expireInSeconds) problems.push(`"SMTP_TIMEOUT_SECONDS" (${smtpTimeoutSeconds}) must be under half of "JOB_EXPIRE_SECONDS" (${jobs.expireInSeconds}): a message is given up after twice the SMTP timeout, and that must come before its job expires.`)
  const metricsToken = secretFile('METRICS_TOKEN_FILE') ?? get('METRICS_TOKEN')
  const oidcIssuer = get('STAFF_OIDC_ISSUER')
  const oidcClientId = get('STAFF_OIDC_CLIENT_ID')
  const oidcClientSecret = secretFile('STAFF_OIDC_CLIENT_SECRET_FILE') ?? get('STAFF_OIDC_CLIENT_SECRET')
  let staffSingleSignOn: Config['staffSingleSignOn']
  if (oidcIssuer !== undefined || oidcClientId !== undefined || oidcClientSecret !== undefined) {
    if (oidcIssuer === undefined || oidcClientId === undefined || oidcClientSecret === undefined) {
      problems.push('Staff single sign-on needs all of "STAFF_OIDC_ISSUER", "STAFF_OIDC_CLIENT_ID" and "STAFF_OIDC_CLIENT_SECRET" (or none).')
    } else if (!/^https?:\/\//.test(oidcIssuer)) {
      problems.push(`"STAFF_OIDC_ISSUER" must be the provider's http(s) issuer URL, got "${oidcIssuer}".`)
    } else {
      staffSingleSignOn = Object.freeze({ name: get('STAFF_OIDC_NAME') ?? 'single sign-on', issuer: oidcIssuer, clientId: oidcClientId, clientSecret: oidcClientSecret })
    }
  }
  if (metricsToken !== undefined && metricsToken.length < 32) problems.push('"METRICS_TOKEN" must be at least 32 characters long (generate one with `openssl rand -base64 32`).')
  const metricsPortValue = get('METRICS_PORT')
  const metricsPort = metricsPortValue === undefined ? undefined : Number(metricsPortValue)
  if (metricsPort !== undefined && (!/^\d{1,5}$/.test(metricsPortValue ?? '') || metricsPort > 65535 || (metricsPort !== 0 && metricsPort === port))) problems.push(`"METRICS_PORT" must be a port from 0 to 65535 other than "PORT", got "${metricsPortValue}".`)
  if (production && options.purpose === 'migrate') {
    if (databaseUrl === undefined) problems.push('"DATABASE_URL" must be set in production (the embedded database is for development only).')
  } else if (production) {
    // Each one missing would otherwise fall back to a development default that
    // mints real credentials with throwaway keys or into a throwaway database.
    if (databaseUrl === undefined) problems.push('"DATABASE_URL" must be set in production (the embedded database is for development only).')
    if (keysDirValue === undefined) problems.push('"KEYS_DIR" must be set in production, to a folder holding the signing keys (`npm run keys:generate`); development keys are never generated there.')
    if (adminApiKey === undefined) problems.push('"ADMIN_API_KEY" must be set in production (no development staff key is generated).')
    // The name is signed into every credential: a default one would stay on them for good.
    if (get('ISSUER_NAME') === undefined) problems.push('"ISSUER_NAME" must be set in production: the certifying body\'s name is signed into every credential.')
    if (!publicBaseUrl.startsWith('https://')) problems.push(`"PUBLIC_BASE_URL" must be an https URL in production, got "${publicBaseUrl}".`)
    if (allowLoopback) problems.push('"OUTBOUND_ALLOW_LOOPBACK" is for development only and must not be set in production.')
    if (smtpUrl !== undefined && mailFrom === undefined) problems.push('"MAIL_FROM" must be set in production when "SMTP_URL" is (the address holders see emails come from).')
    if (metricsToken === undefined && metricsPort === undefined) problems.push('"METRICS_TOKEN" must be set in production (the bearer token Prometheus sends for /metrics), unless "METRICS_PORT" serves the metrics on a private port.')
  }

  if (problems.length > 0) throw new ConfigError(problems)

  return Object.freeze({
    production,
    port,
    host: get('HOST') ?? '127.0.0.1',
    publicBaseUrl,
    databaseUrl,
    database: Object.freeze({ pooler: databasePooler === 'transaction' ? 'transaction' as const : 'none' as const, directUrl: databaseDirectUrl }),
    migrateOnBoot,
    migrationLockTimeoutMs,
    dataDir,
    keysDir: keysDirValue !== undefined ? path.resolve(keysDirValue) : path.join(dataDir, 'keys'),
    keysDirConfigured: keysDirValue !== undefined,
    adminApiKey,
    backupPassphrase,
    logLevel,
    trustedIssuers: Object.freeze(trustedIssuers),
    verifyClockLeewaySeconds,
    verifyTimeBudgetMs,
    issuer: Object.freeze({
      id: issuerId,
      name: get('ISSUER_NAME') ?? 'Tessera Development Issuer',
      named: get('ISSUER_NAME') !== undefined,
      url: issuerUrl,
      email: issuerEmail,
      description: get('ISSUER_DESCRIPTION')
    }),
    trustProxy,
    maxEventLoopDelayMs,
    rateLimits,
    dataIntegrityThreads,
    webConcurrency,
    portal,
    ...(staffSingleSignOn !== undefined ? { staffSingleSignOn } : {}),
    outbound: Object.freeze({ allowLoopback }),
    tracing,
    branding: Object.freeze({ logoUrl, primaryColor, accentColor, linkedInOrganizationId }),
    metrics: Object.freeze({ token: metricsToken, port: metricsPort }),
    notifications: Object.freeze({
      worker: worker === 'off' ? 'off' : 'inline',
      smtpUrl,
      smtpTimeoutSeconds,
      mailFrom: mailFrom ?? `"${get('ISSUER_NAME') ?? 'Tessera Development Issuer'}" <no-reply@${hostOf(publicBaseUrl)}>`,
      emailTemplatesDir: get('EMAIL_TEMPLATES_DIR') !== undefined ? path.resolve(get('EMAIL_TEMPLATES_DIR') as string) : undefined,
      reminderDays: Object.freeze(reminderDays),
      scanCron: get('NOTIFICATION_SCAN_CRON') ?? '*/10 * * * *',
      statusListRefreshCron: get('STATUS_LIST_REFRESH_CRON') ?? '7 * * * *',
      portalPurgeCron: get('PORTAL_PURGE_CRON') ?? '23 * * * *',
      jobs
    })
  })
}

/**
 * For the processes' entry points (server, worker): the configuration, or the
 * list of problems on stderr and exit status 2, which deployers can tell apart
 * from a crash.
 */
export function loadConfigOrExit (env: Record<string, string | undefined> = process.env, options: LoadOptions = {}): Config {
  try {
    return loadConfig(env, options)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(2)
  }
}

function hostOf (url: string): string {
  try {
    return new URL(url).hostname
  } catch {
    return 'localhost'
  }
}
