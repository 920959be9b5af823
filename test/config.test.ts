import t from 'tap'
import { ConfigError, loadConfig } from '../src/kernel/config.js'

t.test('defaults give a working development configuration', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.publicBaseUrl, 'http://localhost:3000')
  t.equal(config.databaseUrl, undefined)
  t.match(config.keysDir, /\.data\/keys$/)
  t.equal(config.keysDirConfigured, false)
  t.equal(config.issuer.id, 'main')
  t.ok(Object.isFrozen(config))
})

t.test('PUBLIC_BASE_URL loses its trailing slash and follows PORT by default', async (t) => {
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://badges.example.org/' }).publicBaseUrl, 'https://badges.example.org')
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://example.org/badges/' }).publicBaseUrl, 'https://example.org/badges')
  t.equal(loadConfig({ PORT: '8080' }).publicBaseUrl, 'http://localhost:8080')
})

t.test('every problem is reported at once, naming the variable', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', PUBLIC_BASE_URL: 'ftp://x', DATABASE_URL: 'mysql://x', ADMIN_API_KEY: 'short', LOG_LEVEL: 'loud', ISSUER_ID: 'Not A Slug' })
    t.fail('should throw')
  } catch (error) {
    t.type(error, ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    for (const name of ['PORT', 'PUBLIC_BASE_URL', 'DATABASE_URL', 'ADMIN_API_KEY', 'LOG_LEVEL', 'ISSUER_ID']) {
      t.match(problems, `"${name}"`, `${name} is named`)
    }
  }
})

t.test('production refuses to start without a database, keys, a staff key, an https base URL and the issuer\'s name', async (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' })) as ConfigError
  t.equal(error.problems.length, 6, 'each missing setting is named')
  for (const name of ['DATABASE_URL', 'KEYS_DIR', 'ADMIN_API_KEY', 'PUBLIC_BASE_URL', 'ISSUER_NAME', 'METRICS_TOKEN']) t.match(error.message, `"${name}"`)
  t.equal(loadConfig({}).issuer.named, false, 'development signs with the default name (and server.ts warns)')
  t.equal(loadConfig({ ISSUER_NAME: 'American Association of Medical Assistants' }).issuer.named, true)
  const complete = {
    NODE_ENV: 'production',
    ISSUER_NAME: 'American Association of Medical Assistants',
    DATABASE_URL: 'postgres://db.internal/tessera',
    KEYS_DIR: '/run/secrets/tessera-keys',
    ADMIN_API_KEY: 'a-production-staff-key-0123456789abcdef',
    METRICS_TOKEN: 'a-production-metrics-token-0123456789abcdef',
    PUBLIC_BASE_URL: 'https://badges.aama-ntl.org'
  }
  t.equal(loadConfig(complete).production, true)
  t.throws(() => loadConfig({ ...complete, PUBLIC_BASE_URL: 'http://badges.aama-ntl.org' }), /must be an https URL in production/)
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'http://localhost:3000' }).production, false, 'development keeps its defaults')
})

t.test('NODE_ENV=production npm start with nothing configured exits 2 with one clear message', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const server = new URL('../src/server.ts', import.meta.url).pathname
  const result = spawnSync(process.execPath, ['--import', 'tsx', server], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' }, encoding: 'utf8', timeout: 60_000 })
  t.equal(result.status, 2)
  for (const name of ['DATABASE_URL', 'KEYS_DIR', 'ADMIN_API_KEY', 'PUBLIC_BASE_URL', 'ISSUER_NAME']) t.match(result.stderr, name)
  t.notMatch(result.stderr + result.stdout, /DEVELOPMENT KEYS|embedded PostgreSQL/, 'nothing was generated or started')
})

t.test('TRUSTED_ISSUERS is a list of absolute ids', async (t) => {
  t.same(loadConfig({ TRUSTED_ISSUERS: 'https://a.example/issuers/1, did:key:z6MkTest' }).trustedIssuers, ['https://a.example/issuers/1', 'did:key:z6MkTest'])
  t.throws(() => loadConfig({ TRUSTED_ISSUERS: 'not a url' }), /TRUSTED_ISSUERS/)
})

t.test('OUTBOUND_ALLOW_LOOPBACK is one development switch for every outbound call, refused in production; the old webhook setting is refused by name', async (t) => {
  t.equal(loadConfig({}).outbound.allowLoopback, false, 'off by default')
  t.equal(loadConfig({ OUTBOUND_ALLOW_LOOPBACK: 'true' }).outbound.allowLoopback, true)
  t.throws(() => loadConfig({ OUTBOUND_ALLOW_LOOPBACK: 'yes' }), /"OUTBOUND_ALLOW_LOOPBACK" must be "true" or "false", got "yes"/)
  const production = {
    NODE_ENV: 'production',
    ISSUER_NAME: 'American Association of Medical Assistants',
    DATABASE_URL: 'postgres://db.internal/tessera',
    KEYS_DIR: '/run/secrets/tessera-keys',
    ADMIN_API_KEY: 'a-production-staff-key-0123456789abcdef',
    METRICS_TOKEN: 'a-production-metrics-token-0123456789abcdef',
    PUBLIC_BASE_URL: 'https://badges.aama-ntl.org'
  }
  t.throws(() => loadConfig({ ...production, OUTBOUND_ALLOW_LOOPBACK: 'true' }), /"OUTBOUND_ALLOW_LOOPBACK" is for development only and must not be set in production/)
  // A silently ignored old name would leave a developer's loopback issuer unreachable with no clue why.
  const error = t.throws(() => loadConfig({ WEBHOOKS_ALLOW_HTTP_LOCALHOST: 'true' })) as ConfigError
  t.same(error.problems, ['"WEBHOOKS_ALLOW_HTTP_LOCALHOST" was replaced by "OUTBOUND_ALLOW_LOOPBACK", which covers every outbound call (webhooks, pasted links, images, other issuers\' keys and status lists): rename it.'])
})

t.test('SMTP_TIMEOUT_SECONDS: thirty by default, and under half the job expiry when there is SMTP (a message is given up after twice it, before its job expires)', async (t) => {
  const smtp = { SMTP_URL: 'smtp://127.0.0.1:2525' }
  t.equal(loadConfig({}).notifications.smtpTimeoutSeconds, 30)
  t.equal(loadConfig({ ...smtp, SMTP_TIMEOUT_SECONDS: '59', JOB_EXPIRE_SECONDS: '120' }).notifications.smtpTimeoutSeconds, 59)
  t.throws(() => loadConfig({ ...smtp, SMTP_TIMEOUT_SECONDS: '60', JOB_EXPIRE_SECONDS: '120' }), /"SMTP_TIMEOUT_SECONDS" \(60\) must be under half of "JOB_EXPIRE_SECONDS" \(120\)/)
  t.throws(() => loadConfig({ ...smtp, JOB_EXPIRE_SECONDS: '3' }), /"SMTP_TIMEOUT_SECONDS" \(30\) must be under half/, 'a short job expiry needs a short SMTP timeout')
  t.equal(loadConfig({ JOB_EXPIRE_SECONDS: '3' }).notifications.jobs.expireInSeconds, 3, 'without SMTP (emails written to files) no send can stall')
  t.throws(() => loadConfig({ SMTP_TIMEOUT_SECONDS: '0' }), /"SMTP_TIMEOUT_SECONDS" must be a number of seconds/)
})
