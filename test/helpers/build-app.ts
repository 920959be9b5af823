import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Sql } from 'postgres'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { prepareService, type BootLog } from '../../src/boot.js'
import { loadConfig, type Config } from '../../src/kernel/config.js'
import type { KeyRing } from '../../src/capabilities/keys/key-ring.js'
import type { StatusListPolicy } from '../../src/capabilities/status-lists/policy.js'
import type { Clock } from '../../src/kernel/time.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import { freshDatabase } from './database.js'
import { testDataIntegrity } from './data-integrity.js'
import { installTestKeys } from './test-keys.js'
import type { OutboundForTests } from '../../src/infrastructure/outbound/outbound.js'

export const ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop'
export const BASE_URL = 'https://badges.test.example'

export interface TestApp {
  app: FastifyInstance
  sql: Sql
  config: Config
  keyRing: KeyRing
  dataDir: string
  /** Headers for a staff call with the bootstrap admin key. */
  auth: { authorization: string }
}

/**
 * Builds the real app on its own fresh database, with a temporary DATA_DIR
 * holding a copy of the run's test keys (real Ed25519 and RSA keys, made once
 * per run: test-keys.ts), and closes everything in teardown. `freshKeys`
 * leaves the key folder empty, so the boot generates development keys as it
 * does on a new machine.
 */
export async function build (t: Test, options: { clock?: Clock, env?: Record<string, string>, statusLists?: Partial<StatusListPolicy>, logger?: FastifyBaseLogger, freshKeys?: boolean, bootLog?: BootLog, outboundForTests?: OutboundForTests } = {}): Promise<TestApp> {
  const db = await freshDatabase()
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-test-'))
  const config = loadConfig({
    PUBLIC_BASE_URL: BASE_URL,
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'silent',
    ISSUER_NAME: 'American Association of Medical Assistants',
    ISSUER_URL: 'https://www.aama-ntl.org',
    // Tests call from one address many times; test/hardening.test.ts sets small limits itself.
    RATE_LIMIT_VERIFY_PER_MINUTE: '1000000',
    RATE_LIMIT_LOOKUP_PER_MINUTE: '1000000',
    RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '1000000',
    RATE_LIMIT_FORMS_PER_MINUTE: '1000000',
    SIGN_IN_LINKS_PER_ADDRESS_PER_HOUR: '1000',
    // A test machine may be loaded far past production (parallel suites, browsers): a verification's
    // budget here is generous, so a slow first JSON-LD load is not an indeterminate; the budget's own
    // behaviour is tested with an explicit timeBudgetMs (test/verification/integrity.test.ts).
    VERIFY_TIME_BUDGET_MS: '30000',
    // Tests block the loop on purpose (pdftoppm, signing bursts): no load shedding unless a test asks.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // The notification workers run only where a test asks (test/notifications.test.ts).
    WORKER: 'off',
    ...options.env
  })
  const quiet = { info: () => {}, warn: () => {} }
  // Teardown is registered before the app exists, so a build that throws still drops its database.
  const built: { app?: FastifyInstance } = {}
  t.teardown(async () => {
    await built.app?.close()
    await db.drop()
    await rm(dataDir, { recursive: true, force: true })
  })
  if (options.freshKeys !== true) await installTestKeys(config.keysDir, config.issuer.id)
  const keyRing = await prepareService(config, db.sql, options.bootLog ?? quiet)
  const app = built.app = await buildApp({ config, sql: db.sql, keyRing, ...(options.clock !== undefined ? { clock: options.clock } : {}), ...(options.statusLists !== undefined ? { statusLists: options.statusLists } : {}), logger: options.logger ?? false, ...(options.outboundForTests !== undefined ? { outboundForTests: options.outboundForTests } : {}), ...testDataIntegrity(options.env) })
  return { app, sql: db.sql, config, keyRing, dataDir, auth: { authorization: `Bearer ${ADMIN_KEY}` } }
}

/** The CMA (AAMA) certification as staff would define it. */
export const CMA_ACHIEVEMENT = {
  name: 'CMA (AAMA)',
  description: 'Certified Medical Assistant credential awarded by the American Association of Medical Assistants.',
  criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam, or recertified by continuing education or exam.' },
  achievementType: 'Certification',
  validityMonths: 60
}

export async function createAchievement (t: TestApp, body: Record<string, unknown> = CMA_ACHIEVEMENT): Promise<{ id: string, url: string }> {
  const response = await t.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: t.auth, payload: body })
  if (response.statusCode !== 201) throw new Error(`creating an achievement failed: ${response.statusCode} ${response.body}`)
  return response.json()
}

export async function issue (t: TestApp, body: Record<string, unknown>): Promise<{ id: string, url: string, version: number, credential: Record<string, any>, jwt: string }> {
  const response = await t.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: t.auth, payload: body })
  if (response.statusCode !== 201) throw new Error(`issuing failed: ${response.statusCode} ${response.body}`)
  return response.json()
}

/**
 * A second instance of the service on the first one's database: its own
 * pool, its own caches and change-feed listener, the same keys, as a second
 * process behind a load balancer would be.
 */
export async function buildSecondInstance (t: Test, first: TestApp): Promise<TestApp> {
  const sql = connect(first.config.databaseUrl ?? '', { max: 10 })
  const built: { app?: FastifyInstance } = {}
  t.teardown(async () => {
    await built.app?.close()
    await sql.end({ timeout: 5 })
  })
  const keyRing = await prepareService(first.config, sql, { info: () => {}, warn: () => {} })
  const app = built.app = await buildApp({ config: first.config, sql, keyRing, logger: false, ...testDataIntegrity() })
  return { ...first, app, sql, keyRing }
}
