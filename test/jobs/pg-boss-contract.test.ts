import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import PgBoss from 'pg-boss'
import t, { type Test } from 'tap'
import { pgBossDb } from '../../src/infrastructure/jobs/job-queue.js'
import type { Db } from '../../src/infrastructure/db/types.js'
import { connect } from '../../src/infrastructure/db/connect.js'
import { freshDatabase } from '../helpers/database.js'
import { waitFor } from '../helpers/notifications.js'

/**
 * What the job queue's adapter (src/infrastructure/jobs/job-queue.ts: pg-boss
 * over postgres.js) relies on in pg-boss and postgres.js, asserted against the
 * installed versions, so that an upgrade that changes any of it fails here
 * rather than in production:
 * - pg-boss is pinned to one exact version;
 * - pg-boss sends JSON as text (its insert's jobs, for json_to_recordset),
 *   including from its cron, which the adapter cannot wrap per call; and
 *   postgres.js would JSON-encode such a string again (the cron's failure);
 * - pg-boss's schema scripts are one parameterless text beginning with BEGIN,
 *   which postgres.js runs only on a reserved connection, and one that fails
 *   (processes racing to create the schema) leaves that connection in an
 *   aborted transaction unless it is rolled back;
 * - pg-boss passes undefined for options not given (postgres.js refuses it);
 * - `send` and `insert` with `{ db }` run in that db's transaction (the outbox);
 * - a scheduled job carries no data (null);
 * - `notifyWorker(id)` wakes a worker before its polling interval;
 * - `stop({ close: false })` leaves the caller's pool open.
 */

interface Call { text: string, values: unknown[] }

/** The adapter, with every call pg-boss makes through it recorded. */
function recorded (sql: Db, calls: Call[] = []): { db: PgBoss.Db, calls: Call[] } {
  const inner = pgBossDb(sql)
  return { calls, db: { executeSql: async (text, values = []) => { calls.push({ text, values: [...values] }); return await inner.executeSql(text, values) } } }
}

async function openBoss (t: Test, options: Partial<PgBoss.ConstructorOptions> = {}): Promise<{ boss: PgBoss, calls: Call[], sql: Awaited<ReturnType<typeof freshDatabase>>['sql'] }> {
  const database = await freshDatabase()
  const { db, calls } = recorded(database.sql)
  // A schema of its own: pg-boss creates it from nothing here.
  const boss = new PgBoss({ db, schema: 'contract_boss', supervise: false, schedule: false, ...options })
  boss.on('error', (error) => { t.fail(`pg-boss error: ${String(error)}`) })
  t.teardown(async () => {
    await boss.stop({ graceful: false, wait: true, close: false })
    await database.drop()
  })
  await boss.start()
  return { boss, calls, sql: database.sql }
}

const INSERT_JOBS = /json_to_recordset\(\$1\)/

t.test('pg-boss is pinned to one exact version, the one installed', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  const installed = (createRequire(import.meta.url)('pg-boss/package.json') as { version: string }).version
  t.match(pkg.dependencies['pg-boss'], /^\d+\.\d+\.\d+$/, 'no range: an upgrade is a decision, made with this test')
  t.equal(pkg.dependencies['pg-boss'], installed)
})

t.test('postgres.js JSON-encodes a string bound to a json parameter again; the adapter binds it as text, as pg does', async (t) => {
  const database = await freshDatabase()
  t.teardown(database.drop)
  const [plain] = await database.sql.unsafe('select json_typeof($1) as type', ['[{"a":1}]'])
  t.equal(plain?.type, 'string', 'postgres.js alone: a JSON string scalar (the cause of "cannot call json_to_recordset on a scalar")')
  const { rows } = await pgBossDb(database.sql).executeSql('select json_typeof($1) as type, $2::uuid as id, $3 as n', ['[{"a":1}]', '00000000-0000-4000-8000-000000000001', 7])
  t.same(rows[0], { type: 'array', id: '00000000-0000-4000-8000-000000000001', n: 7 }, 'through the adapter: the array, and other strings and numbers as before')
})

t.test('pg-boss creates its schema with one parameterless BEGIN ... COMMIT text, which postgres.js runs only on a reserved connection', async (t) => {
  const { calls, sql } = await openBoss(t)
  const scripts = calls.filter((c) => /\bCOMMIT\b/i.test(c.text))
  t.ok(scripts.length >= 1, 'the creation script was sent')
  for (const script of scripts) {
    t.match(script.text, /^\s*BEGIN;/, 'it begins with BEGIN (the adapter\'s test)')
    t.same(script.values, [], 'without parameters (one simple-protocol text)')
  }
  t.notOk(calls.some((c) => !/\bCOMMIT\b/i.test(c.text) && /^\s*BEGIN/i.test(c.text)), 'no other text begins with BEGIN')
  await t.rejects(sql.unsafe('BEGIN; SELECT 1; COMMIT;'), { code: 'UNSAFE_TRANSACTION' }, 'postgres.js refuses BEGIN on a pool: hence the reserved connection')
  const [version] = await sql`select version from contract_boss.version`
  t.ok(version !== undefined, 'and the schema exists')
})

t.test('a BEGIN ... COMMIT text that fails is rolled back before its connection goes back to the pool', async (t) => {
  const database = await freshDatabase()
  const single = connect(database.url, { max: 1 })
  t.teardown(async () => { await single.end({ timeout: 5 }); await database.drop() })
  const db = pgBossDb(single)
  await t.rejects(db.executeSql('BEGIN; SELECT 1; SELECT 1 / 0; COMMIT;', []), { code: '22012' }, 'the script fails midway (its COMMIT never runs)')
  const { rows } = await db.executeSql('select 1 as one', [])
  t.same(rows, [{ one: 1 }], 'the pool\'s only connection answers the next statement (not "current transaction is aborted")')
})

t.test('processes starting together race to create pg-boss\'s schema; the losers start and their pools stay usable', async (t) => {
  const database = await freshDatabase()
  // One connection per process, as pools are small at boot: a connection left in the
  // aborted transaction would be the one the next statement gets.
  const pools = [1, 2, 3].map(() => connect(database.url, { max: 1 }))
  const bosses = pools.map((pool) => new PgBoss({ db: pgBossDb(pool), schema: 'race_boss', supervise: false, schedule: false }))
  t.teardown(async () => {
    await Promise.all(bosses.map(async (boss) => { await boss.stop({ graceful: false, wait: true, close: false }) }))
    await Promise.all(pools.map(async (pool) => { await pool.end({ timeout: 5 }) }))
    await database.drop()
  })
  const started = await Promise.allSettled(bosses.map(async (boss) => await boss.start()))
  t.same(started.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled'], 'all three start')
  for (const [i, pool] of pools.entries()) {
    const [row] = await pool`select count(*)::int as n from race_boss.version`
    t.equal(row?.n, 1, `process ${i + 1}'s pool answers, and the schema was created once`)
  }
})

t.test('pg-boss passes undefined for options not given, and send and insert join the transaction of the db they are given', async (t) => {
  const { boss, calls, sql } = await openBoss(t)
  await boss.createQueue('contract')
  const before = calls.length
  await boss.send('contract', { n: 1 })
  t.ok(calls.slice(before).some((c) => c.values.includes(undefined)), 'undefined values (pg sends null; postgres.js refuses undefined: the adapter maps it)')

  const rolledBack = sql.begin(async (tx) => {
    await boss.send('contract', { n: 2 }, { db: pgBossDb(tx) })
    await boss.insert([{ name: 'contract', data: { n: 3 } }], { db: pgBossDb(tx) })
    throw new Error('rollback')
  })
  await t.rejects(rolledBack, /rollback/)
  await sql.begin(async (tx) => {
    await boss.send('contract', { n: 4 }, { db: pgBossDb(tx) })
    await boss.insert([{ name: 'contract', data: { n: 5, text: 'a "quoted" string', list: [1, 2] } }], { db: recorded(tx, calls).db })
  })
  const insert = calls.find((c) => INSERT_JOBS.test(c.text))
  t.type(insert?.values[0], 'string', 'insert binds its jobs as JSON text')
  const jobs = await boss.fetch<Record<string, unknown>>('contract', { batchSize: 10 })
  t.same(jobs.map((j) => j.data).sort((a, b) => Number(a.n) - Number(b.n)), [{ n: 1 }, { n: 4 }, { n: 5, text: 'a "quoted" string', list: [1, 2] }], 'the rolled-back jobs do not exist; the committed ones arrive as sent')
})

t.test('pg-boss\'s cron inserts through its own db, JSON as text, and the scheduled job carries null', async (t) => {
  const { boss, calls } = await openBoss(t, { schedule: true, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 })
  await boss.createQueue('contract-cron')
  await boss.schedule('contract-cron', '* * * * *')
  const [job] = await waitFor('the scheduled job', async () => {
    const fetched = await boss.fetch('contract-cron')
    return fetched.length > 0 ? fetched : undefined
  })
  t.equal(job?.data, null, 'no data: the adapter hands the handler the empty payload')
  const cronInserts = calls.filter((c) => INSERT_JOBS.test(c.text))
  t.ok(cronInserts.length >= 2, 'the slot, then the job, each through pg-boss\'s own db')
  for (const insert of cronInserts) t.type(insert.values[0], 'string')
})

t.test('notifyWorker wakes a worker before its polling interval, and stop({ close: false }) leaves the pool open', async (t) => {
  const { boss, sql } = await openBoss(t)
  await boss.createQueue('contract-wake')
  const handled: unknown[] = []
  // A polling interval far beyond the bound below: only notifyWorker can bring the job in time.
  const id = await boss.work('contract-wake', { pollingIntervalSeconds: 600 }, async (jobs) => { handled.push(...jobs.map((j) => j.data)) })
  // After any fetch, busy or not, the worker sleeps its interval: the second job shows the waking.
  for (const n of [1, 2]) {
    await boss.send('contract-wake', { n })
    boss.notifyWorker(id)
    await waitFor(`job ${n}, woken`, () => handled.length >= n ? true : undefined, 10_000)
  }
  t.same(handled, [{ n: 1 }, { n: 2 }])
  await boss.stop({ graceful: true, wait: true, close: false })
  const [row] = await sql`select 1 as one`
  t.equal(row?.one, 1, 'the pool still answers')
})
