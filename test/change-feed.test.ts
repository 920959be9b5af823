import t from 'tap'
import { announceChange, CHANGES_CHANNEL, openChangeFeedFor } from '../src/infrastructure/caching/change-feed.js'
import { pruneChangeLog } from '../src/infrastructure/caching/change-log-store.js'
import { freshDatabase } from './helpers/database.js'
import { waitFor } from './helpers/notifications.js'

/**
 * The change feed's modes (openChangeFeedFor): LISTEN on the pool (direct
 * PostgreSQL), and polling the change log (behind a pooler in transaction
 * mode without a direct URL). test/pgbouncer.test.ts runs both through a real
 * PgBouncer; here, on the test server, the polling feed's ordering and pruning.
 */

const POOLED = { pooler: 'transaction' as const, directUrl: undefined }
const DIRECT = { pooler: 'none' as const, directUrl: undefined }

function recorder (): { keys: string[], resets: number, handlers: { onChange: (key: string) => void, onReset: () => void } } {
  const state = { keys: [] as string[], resets: 0, handlers: { onChange: (key: string) => { state.keys.push(key) }, onReset: () => { state.resets++ } } }
  return state
}

t.test('polling: a change whose transaction commits after a later one is still heard, and each change once', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const heard = recorder()
  const feed = await openChangeFeedFor(POOLED, db.sql, heard.handlers, CHANGES_CHANNEL, { pollIntervalMs: 50 })
  t.teardown(feed.close)
  t.equal(heard.resets, 1, 'the caches start over when the feed opens')

  // The slow transaction writes first (the lower seq) and commits last.
  let commitSlow: () => void = () => {}
  let slowWrote: () => void = () => {}
  const wrote = new Promise<void>((resolve) => { slowWrote = resolve })
  const slow = db.sql.begin(async (tx) => {
    await announceChange(tx, 'credential:slow')
    slowWrote()
    await new Promise<void>((resolve) => { commitSlow = resolve })
  })
  await wrote
  await db.sql.begin(async (tx) => { await announceChange(tx, 'credential:fast') })
  await waitFor('the fast change', () => heard.keys.includes('credential:fast'), 5000)
  // Several polls pass the fast change's seq while the slow one is uncommitted.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.notOk(heard.keys.includes('credential:slow'), 'an uncommitted change is not heard')
  commitSlow()
  await slow
  await waitFor('the slow change', () => heard.keys.includes('credential:slow'), 5000)
  t.pass('the slow change is heard once it commits, although a later seq was read before')

  // A rolled-back change is never heard.
  await db.sql.begin(async (tx) => {
    await announceChange(tx, 'credential:rolled-back')
    throw new Error('roll back')
  }).catch(() => {})
  await db.sql.begin(async (tx) => { await announceChange(tx, 'credential:last') })
  await waitFor('the last change', () => heard.keys.includes('credential:last'), 5000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(heard.keys.filter((k) => k !== 'credential:last').sort(), ['credential:fast', 'credential:slow'], 'each committed change once, the rolled-back one never')
})

t.test('polling: a change announced through the feed drops the key at once, and again once committed', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const heard = recorder()
  const feed = await openChangeFeedFor(POOLED, db.sql, heard.handlers, CHANGES_CHANNEL, { pollIntervalMs: 50 })
  t.teardown(feed.close)
  await db.sql.begin(async (tx) => {
    await feed.announce(tx, 'status-list:1')
    t.same(heard.keys, ['status-list:1'], 'at once, before commit')
  })
  await waitFor('the committed change', () => heard.keys.length === 2, 5000)
  t.same(heard.keys, ['status-list:1', 'status-list:1'], 'and once more after commit (a read racing the commit may have stored the old copy)')
})

t.test('polling: another channel\'s changes are not heard (tests isolate instances by channel)', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const heard = recorder()
  const feed = await openChangeFeedFor(POOLED, db.sql, heard.handlers, 'elsewhere', { pollIntervalMs: 50 })
  t.teardown(feed.close)
  await db.sql.begin(async (tx) => { await announceChange(tx, 'credential:main-channel') })
  const other = await openChangeFeedFor(POOLED, db.sql, recorder().handlers, 'elsewhere', { pollIntervalMs: 50 })
  await db.sql.begin(async (tx) => { await other.announce(tx, 'credential:elsewhere') })
  await other.close()
  await waitFor('the change on its channel', () => heard.keys.includes('credential:elsewhere'), 5000)
  t.notOk(heard.keys.includes('credential:main-channel'), 'the default channel\'s change did not reach it')
})

t.test('direct: the feed LISTENs (a bare NOTIFY reaches it), and commands\' changes are logged for pollers too', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const heard = recorder()
  const feed = await openChangeFeedFor(DIRECT, db.sql, heard.handlers)
  t.teardown(feed.close)
  await db.sql`select pg_notify(${CHANGES_CHANNEL}, 'signing-keys')`
  await waitFor('the NOTIFY', () => heard.keys.includes('signing-keys'), 5000)
  t.pass('a NOTIFY alone reaches a listening feed')
  await db.sql.begin(async (tx) => { await announceChange(tx, 'recognised-issuers') })
  const [logged] = await db.sql<Array<{ count: number }>>`select count(*)::int as count from change_log where channel = ${CHANGES_CHANNEL} and key = 'recognised-issuers'`
  t.equal(logged?.count, 1, 'a change announced without a feed (a command) is in the change log')
})

t.test('the change log is pruned by age, a bounded number of rows at a time', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  await db.sql`insert into change_log (channel, key, at) select 'c', 'old-' || i, now() - interval '10 minutes' from generate_series(1, 5) i`
  await db.sql`insert into change_log (channel, key) values ('c', 'recent')`
  t.equal(await pruneChangeLog(db.sql, 300, 3), 3, 'at most the limit')
  t.equal(await pruneChangeLog(db.sql, 300, 3), 2, 'the rest next time')
  t.same((await db.sql`select key from change_log`).map((r) => r.key), ['recent'], 'the recent change stays')
})
