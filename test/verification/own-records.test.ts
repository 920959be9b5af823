import t from 'tap'
import { buildApp } from '../../src/app.js'
import { CHANGES_CHANNEL } from '../../src/infrastructure/caching/change-feed.js'
import { inlineDataIntegrity, type DataIntegrity } from '../../src/infrastructure/signing/pool.js'
import type { Task } from '../../src/infrastructure/signing/tasks.js'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { waitFor } from '../helpers/notifications.js'

/**
 * Issue 28's hot-path caches, seen from outside: the verifier keeps copies of
 * this service's keys and status records until the change feed says they
 * changed (own-records-cache.ts), and knows its own stored documents by their
 * content hash without checking their proofs again (migration 0021).
 */

const verify = async (app: TestApp['app'], credential: unknown): Promise<{ status: string, checks: Array<{ id: string, result: string, message: string }> }> =>
  (await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })).json()

t.test('status records come from memory until the change feed names the credential', async (t) => {
  const first = await build(t)
  // Instance A keeps its copies for a minute unless told (the default is five seconds), so what follows is the feed's doing.
  const app = await buildApp({ config: first.config, sql: first.sql, keyRing: first.keyRing, logger: false, ownRecordsTtlMs: 60_000 })
  t.teardown(async () => { await app.close() })
  const a = { ...first, app }
  const achievement = await createAchievement(a)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Kept', email: 'kept@example.com' } })
  t.equal((await verify(a.app, issued.jwt)).status, 'valid', 'A reads and keeps the key and the status record')

  // B announces on a channel A does not hear: its revocation reaches A only through what A reads.
  const b = await buildApp({ config: a.config, sql: a.sql, keyRing: a.keyRing, logger: false, changesChannel: `${CHANGES_CHANNEL}_elsewhere` })
  t.teardown(async () => { await b.close() })
  t.equal((await b.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: a.auth, payload: { reason: 'test' } })).statusCode, 200)
  t.equal((await verify(b, issued.jwt)).status, 'revoked', 'B, which read after the revocation, says revoked')
  t.equal((await verify(a.app, issued.jwt)).status, 'valid', 'A answers from its copy: it asked PostgreSQL nothing')

  // What every revocation sends (PostgreSQL delivers it after the commit): A drops its copy.
  await a.sql`select pg_notify(${CHANGES_CHANNEL}, ${`credential:${issued.id}`})`
  const heard = await waitFor('A to hear of the revocation', async () => (await verify(a.app, issued.jwt)).status === 'revoked' ? true : undefined, 3_000)
  t.ok(heard, 'once the feed names the credential, A reads it again: revoked')
})

t.test('a copy nobody told about expires: a lost notification is not forever', async (t) => {
  const first = await build(t)
  // A one-second lifetime; the default is five.
  const app = await buildApp({ config: first.config, sql: first.sql, keyRing: first.keyRing, logger: false, ownRecordsTtlMs: 1_000 })
  t.teardown(async () => { await app.close() })
  const a = { ...first, app }
  const achievement = await createAchievement(a)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Lost', email: 'lost@example.com' } })
  t.equal((await verify(a.app, issued.jwt)).status, 'valid')
  const b = await buildApp({ config: a.config, sql: a.sql, keyRing: a.keyRing, logger: false, changesChannel: `${CHANGES_CHANNEL}_elsewhere` })
  t.teardown(async () => { await b.close() })
  t.equal((await b.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: a.auth, payload: { reason: 'test' } })).statusCode, 200)
  // Nobody tells A: only the copy's lifetime brings the revocation in.
  const heard = await waitFor('A\'s copy to expire', async () => (await verify(a.app, issued.jwt)).status === 'revoked' ? true : undefined, 15_000)
  t.ok(heard, 'A reads the record again once its copy expires: revoked')
})

t.test('a document this service stored is known by its hash: no proof is checked again, in any process', async (t) => {
  const a = await build(t)
  const achievement = await createAchievement(a)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Stored', email: 'stored@example.com' } })

  // A second app with empty caches (another process, in effect) whose Data Integrity work is counted.
  const tasks: Array<Task['kind']> = []
  const inline = inlineDataIntegrity()
  const counting: DataIntegrity = { run: async <T>(task: Task) => { tasks.push(task.kind); return await inline.run<T>(task) }, threads: 0, close: async () => {} }
  const fresh = await buildApp({ config: a.config, sql: a.sql, keyRing: a.keyRing, logger: false, dataIntegrity: counting })
  t.teardown(async () => { await fresh.close() })

  const first = await verify(fresh, issued.credential)
  t.equal(first.status, 'valid')
  t.equal(first.checks.find((c) => c.id === 'proof')?.result, 'passed')
  t.same(tasks.filter((kind) => kind === 'verify'), [], 'never seen by this app, yet no proof was checked: the stored document is ours')

  const tampered = structuredClone(issued.credential)
  tampered.credentialSubject.name = 'Stored!'
  const verdict = await verify(fresh, tampered)
  t.equal(verdict.status, 'invalid', 'one changed character is not a stored document: the proof is checked, and fails')
  t.same(tasks.filter((kind) => kind === 'verify'), ['verify'], 'the changed copy went through the proof check')

  // The same meaning in another key order is another text: not known by its hash, so checked, and genuine.
  const { proof, ...rest } = issued.credential
  const reordered = { proof, ...rest }
  t.equal((await verify(fresh, reordered)).status, 'valid', 'the same credential with its keys in another order still verifies')
  t.same(tasks.filter((kind) => kind === 'verify'), ['verify', 'verify'], 'after its proof was checked')
})
