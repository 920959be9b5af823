import { createHash } from 'node:crypto'
import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, type TestApp } from './helpers/build-app.js'

const achievementPost = (app: TestApp, key: string | undefined, body: Record<string, unknown> = CMA_ACHIEVEMENT) =>
  app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: { ...app.auth, ...(key !== undefined ? { 'idempotency-key': key } : {}) }, payload: body })

const count = async (app: TestApp, table: 'achievements' | 'credentials'): Promise<number> =>
  Number((await app.sql.unsafe(`select count(*) from ${table}`))[0]!.count)

t.test('a retry with the same key and body replays the first answer and creates nothing', async (t) => {
  const app = await build(t)
  const first = await achievementPost(app, 'key-1')
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'])
  const retry = await achievementPost(app, 'key-1')
  t.equal(retry.statusCode, 201)
  t.equal(retry.body, first.body, 'byte for byte')
  t.equal(retry.headers.location, first.headers.location)
  t.match(retry.headers['content-type'], /^application\/json/)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(await count(app, 'achievements'), 1)

  t.equal((await achievementPost(app, undefined)).statusCode, 201)
  t.equal((await achievementPost(app, undefined)).statusCode, 201)
  t.equal(await count(app, 'achievements'), 3, 'without a key, each request creates')
})

t.test('the same key with another body, or on another path, is 422', async (t) => {
  const app = await build(t)
  await achievementPost(app, 'key-2')
  const other = await achievementPost(app, 'key-2', { ...CMA_ACHIEVEMENT, name: 'Different' })
  t.equal(other.statusCode, 422)
  t.equal(other.json().type, 'urn:tessera:problem:idempotency_key_reused')
  const achievement = await createAchievement(app)
  const elsewhere = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'idempotency-key': 'key-2' }, payload: { achievementId: achievement.id, recipient: { name: 'A', email: 'a@example.com' } } })
  t.equal(elsewhere.statusCode, 422)
  t.equal(await count(app, 'credentials'), 0)
})

t.test('racing retries of an issue create exactly one credential, and all get its answer', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const request = () => app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'idempotency-key': 'race-1' }, payload: { achievementId: achievement.id, recipient: { name: 'Racer', email: 'racer@example.com' } } })
  const answers = await Promise.all(Array.from({ length: 10 }, request))
  t.same(answers.map((a) => a.statusCode), Array(10).fill(201))
  t.equal(new Set(answers.map((a) => a.body)).size, 1, 'one answer, replayed to every racer')
  t.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 9)
  t.equal(await count(app, 'credentials'), 1)
  const batch = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: { ...app.auth, 'idempotency-key': 'batch-1', 'content-type': 'text/csv' }, payload: `achievementId,name,email\n${achievement.id},B,b@example.com\n` })
  const batchRetry = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: { ...app.auth, 'idempotency-key': 'batch-1', 'content-type': 'text/csv' }, payload: `achievementId,name,email\n${achievement.id},B,b@example.com\n` })
  t.equal(batch.statusCode, 207)
  t.equal(batchRetry.body, batch.body, 'a CSV batch replays too')
  t.equal(await count(app, 'credentials'), 2)
})

t.test('a client error is replayed; a server error frees the key for the retry', async (t) => {
  const app = await build(t)
  const unknown = { achievementId: 'NoSuchAchievement', recipient: { name: 'A', email: 'a@example.com' } }
  const post = (key: string, payload: Record<string, unknown>) => app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: { ...app.auth, 'idempotency-key': key }, payload })
  const first = await post('k-422', unknown)
  t.equal(first.statusCode, 422)
  const again = await post('k-422', unknown)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(again.body, first.body)

  await app.sql.unsafe(`
    create function fail_achievements() returns trigger language plpgsql as $$ begin raise exception 'disk full (test)'; end $$;
    create trigger fail_achievements before insert on achievements for each row execute function fail_achievements();`)
  t.equal((await achievementPost(app, 'k-500')).statusCode, 500)
  await app.sql.unsafe('drop trigger fail_achievements on achievements')
  const retry = await achievementPost(app, 'k-500')
  t.equal(retry.statusCode, 201, 'the retry ran again')
  t.notOk(retry.headers['idempotent-replayed'])
})

t.test('a retry while the first is still running waits for its answer; an abandoned key is taken over', async (t) => {
  const app = await build(t)
  // The first request "is running": its key is claimed but has no answer yet.
  const body = JSON.stringify(CMA_ACHIEVEMENT)
  // The same request's fingerprint; the "first request" finishes 300 ms after the retry starts waiting.
  const hash = createHash('sha256').update(`POST /api/v1/achievements\n${body}`, 'utf8').digest('hex')
  await app.sql`insert into idempotency_keys (actor, key, method, path, request_hash) values ('bootstrap', 'slow', 'POST', '/api/v1/achievements', ${hash})`
  setTimeout(() => {
    void app.sql`update idempotency_keys set status_code = 201, response_headers = ${app.sql.json({ 'content-type': 'application/json; charset=utf-8' })}, response_body = '{"first":true}', completed_at = now() where key = 'slow'`.execute()
  }, 300)
  const waited = await achievementPost(app, 'slow')
  t.equal(waited.statusCode, 201, waited.body)
  t.equal(waited.body, '{"first":true}', 'the waiting retry got the first answer')
  t.equal(await count(app, 'achievements'), 0)

  await app.sql`insert into idempotency_keys (actor, key, method, path, request_hash, created_at) values ('bootstrap', 'dead', 'POST', '/api/v1/achievements', ${hash}, now() - interval '10 minutes')`
  const takeover = await achievementPost(app, 'dead')
  t.equal(takeover.statusCode, 201)
  t.equal(await count(app, 'achievements'), 1, 'the abandoned request ran again')
})

t.test('keys must be visible ASCII, 1 to 255 characters', async (t) => {
  const app = await build(t)
  for (const key of ['', 'x'.repeat(256), 'has space', 'tab\tkey', 'naïve']) {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: { ...app.auth, 'idempotency-key': key }, payload: CMA_ACHIEVEMENT })
    t.equal(response.statusCode, 400, JSON.stringify(key))
    t.match(response.json().detail, /Idempotency-Key/)
  }
  t.equal(await count(app, 'achievements'), 0)
})
