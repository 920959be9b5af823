/**
 * The deployment's topology, as both compose.yaml and `npm run topology`
 * (scripts/topology.ts, the same services from local processes) start it:
 * which services there are, what each Tessera process is told, where each is
 * health-checked. test/operations/topology.test.ts reads compose.yaml and
 * deploy/Caddyfile against this module, so the two cannot drift apart.
 */

/** Every service, in start order. */
export const SERVICES = ['db', 'migrate', 'tessera-1', 'tessera-2', 'worker', 'proxy', 'mail'] as const
export type ServiceName = typeof SERVICES[number]

/** The service instances the proxy balances over (round robin). */
export const INSTANCES = ['tessera-1', 'tessera-2'] as const
export type InstanceName = typeof INSTANCES[number]

/** The services that run Tessera's own code, and the entry point each runs (src/<entry>.ts, dist/<entry>.js). */
export const ENTRY_POINTS = {
  migrate: 'cli/migrate',
  'tessera-1': 'server',
  'tessera-2': 'server',
  worker: 'worker'
} as const
export type TesseraService = keyof typeof ENTRY_POINTS

/**
 * Node flags per Tessera service: the instances get the production image's
 * old-generation cap (Dockerfile CMD, npm run start:prod); the worker and the
 * one-shot migration run with Node's defaults, as `worker:prod` does.
 */
export const NODE_FLAGS: Record<TesseraService, readonly string[]> = {
  migrate: [],
  'tessera-1': ['--max-old-space-size=192', '--max-semi-space-size=8'],
  'tessera-2': ['--max-old-space-size=192', '--max-semi-space-size=8'],
  worker: []
}

/**
 * HTTP health checks: the instances and the proxy answer /ready (the
 * database answers) once they can serve; the proxy takes an instance out of
 * rotation while its /ready fails. /health (liveness only) stays the image's
 * own HEALTHCHECK.
 */
export const HEALTH_PATHS = {
  'tessera-1': '/ready',
  'tessera-2': '/ready',
  proxy: '/ready'
} as const

/** The compose secrets (files under deploy/secrets/, mounted at /run/secrets/<name>) and the variables naming them. */
export const SECRET_FILES = {
  DATABASE_URL_FILE: 'database_url',
  ADMIN_API_KEY_FILE: 'admin_api_key',
  METRICS_TOKEN_FILE: 'metrics_token'
} as const

/** What differs between compose and the local script: paths, hosts, ports and the mode. */
export interface TopologyValues {
  /** "production" in compose (the image), "development" locally (plain http behind the local proxy). */
  readonly nodeEnv: string
  readonly publicBaseUrl: string
  readonly databaseUrlFile: string
  readonly adminApiKeyFile: string
  /** The bearer token /metrics asks for (production needs it, the worker's configuration too). */
  readonly metricsTokenFile: string
  readonly keysDir: string
  readonly smtpUrl: string
  readonly mailFrom: string
  readonly issuerName: string
  readonly logLevel: string
  /** The interface and port each instance listens on. */
  readonly host: string
  readonly portOf: (instance: InstanceName) => number
  /** Hops of reverse proxy in front of the instances (Fastify trustProxy). */
  readonly trustProxy: string
}

/**
 * The environment of a Tessera service: the instances only add jobs
 * (WORKER=off) and run one process each (WEB_CONCURRENCY=1), the worker runs them (WORKER=inline, which src/worker.ts
 * always does; set so the file says it); migrate needs only the database.
 */
export function tesseraEnvironment (service: TesseraService, v: TopologyValues): Record<string, string> {
  if (service === 'migrate') return { NODE_ENV: v.nodeEnv, DATABASE_URL_FILE: v.databaseUrlFile }
  const common = {
    NODE_ENV: v.nodeEnv,
    PUBLIC_BASE_URL: v.publicBaseUrl,
    DATABASE_URL_FILE: v.databaseUrlFile,
    ADMIN_API_KEY_FILE: v.adminApiKeyFile,
    METRICS_TOKEN_FILE: v.metricsTokenFile,
    KEYS_DIR: v.keysDir,
    ISSUER_NAME: v.issuerName,
    // The instances send the portal's sign-in links themselves; the worker sends every other email.
    SMTP_URL: v.smtpUrl,
    MAIL_FROM: v.mailFrom,
    LOG_LEVEL: v.logLevel
  }
  if (service === 'worker') return { ...common, WORKER: 'inline' }
  // One process per instance: here the instances are the unit of scale (the proxy balances them, the
  // orchestrator restarts them), and two single-process instances already use both cores of the host.
  return { ...common, HOST: v.host, PORT: String(v.portOf(service)), TRUST_PROXY: v.trustProxy, WORKER: 'off', WEB_CONCURRENCY: '1' }
}
