import t from 'tap'
import { buildApp } from '../../src/app.js'
import { compromiseSigningKey } from '../../src/capabilities/keys/lifecycle.js'
import { build, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { waitFor } from '../helpers/notifications.js'

const verify = async (app: TestApp['app'], credential: unknown, options?: Record<string, unknown>) =>
  (await app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential, ...(options !== undefined ? { options } : {}) } })).json()

/**
 * What another instance answers once the change feed has told it (a NOTIFY,
 * milliseconds after the commit): it keeps copies of keys and status records
 * (own-records-cache.ts), so it is asked again until it says `status`, for at
 * most three seconds (under the copies' five-second lifetime: the feed, not their expiry, is what is shown).
 */
const verifyOnceHeard = async (app: TestApp['app'], credential: unknown, status: string): Promise<{ status: string, checks: Array<{ id: string, message: string }> }> =>
  await waitFor(`the other instance to answer ${status}`, async () => {
    const result = await verify(app, credential)
    return result.status === status ? result : undefined
  }, 3_000)

t.test('the content cache never turns a revoked, expired, tampered or withdrawn-key credential into valid', async (t) => {
  let now = new Date('2026-06-01T00:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Cached', email: 'cached@example.com' } })

  t.equal((await verify(app.app, issued.credential)).status, 'valid')
  const pureChecks = app.app.verifier.pureChecks!
  const hits = pureChecks.hits
  t.equal((await verify(app.app, issued.credential)).status, 'valid')
  t.ok(pureChecks.hits > hits, 'the second verification of the same content is served from the cache')

  const tampered = structuredClone(issued.credential)
  tampered.credentialSubject.name = 'Cached!'
  t.equal((await verify(app.app, tampered)).status, 'invalid', 'one changed character is a cache miss, and invalid')

  t.equal((await verify(app.app, issued.credential, { at: '2032-01-01T00:00:00Z' })).status, 'expired', 'dates are checked live')

  // A second instance on the same database: a revocation through one is seen at once by the other.
  const other = await buildApp({ config: app.config, sql: app.sql, keyRing: app.keyRing, logger: false, clock: () => now })
  t.teardown(async () => { await other.close() })
  t.equal((await verify(other, issued.credential)).status, 'valid')
  const second = await issue(app, { achievementId: achievement.id, recipient: { name: 'Second', email: 'second@example.com' } })
  t.equal((await verify(other, second.credential)).status, 'valid')
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })
  t.equal((await verifyOnceHeard(other, issued.credential, 'revoked')).status, 'revoked', 'revoked, seen by the other instance as soon as the feed tells it')
  t.equal((await verify(app.app, issued.credential)).status, 'revoked')

  now = new Date('2026-06-10T00:00:00Z')
  const [key] = await app.sql<[{ id: string }]>`select id from signing_keys where status = 'active' and algorithm = 'Ed25519'`
  await compromiseSigningKey({ sql: app.sql, keysDir: app.config.keysDir, actor: 'test', now }, key.id, new Date('2026-05-01T00:00:00Z'))
  // Compromised here by the function, not an instance: the others hear of it by NOTIFY alone.
  const result = await verifyOnceHeard(other, second.credential, 'invalid')
  t.equal(result.status, 'invalid', 'a key withdrawn since before the signature: invalid, cache or not')
  t.match(result.checks.find((c) => c.id === 'key_binding')?.message, /withdrawn as compromised/)
})

t.test('a VC-JWT seen before skips the signature check, never the rest: a changed token, a revocation and a compromised key still count', async (t) => {
  let now = new Date('2026-06-01T00:00:00Z')
  const app = await build(t, { clock: () => now })
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Token', email: 'token@example.com' } })
  t.equal((await verify(app.app, issued.jwt)).status, 'valid')
  const pureChecks = app.app.verifier.pureChecks!
  const hits = pureChecks.hits
  t.equal((await verify(app.app, issued.jwt)).status, 'valid')
  t.ok(pureChecks.hits > hits, 'the second verification of the same token is served from the cache')
  const [h, p, s] = issued.jwt.split('.') as [string, string, string]
  const otherSignature = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`
  t.equal((await verify(app.app, otherSignature)).status, 'invalid', 'a changed signature is a miss, and invalid')
  const changedPayload = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), name: 'x' })).toString('base64url')}.${s}`
  t.equal((await verify(app.app, changedPayload)).status, 'invalid', 'a changed payload with the old signature is invalid')
  await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: app.auth, payload: { reason: 'test' } })
  t.equal((await verify(app.app, issued.jwt)).status, 'revoked', 'revocation is checked live')

  const second = await issue(app, { achievementId: achievement.id, recipient: { name: 'Second', email: 'second@example.com' } })
  t.equal((await verify(app.app, second.jwt)).status, 'valid')
  now = new Date('2026-06-10T00:00:00Z')
  const [key] = await app.sql<[{ id: string }]>`select id from signing_keys where status = 'active' and algorithm <> 'Ed25519'`
  await compromiseSigningKey({ sql: app.sql, keysDir: app.config.keysDir, actor: 'test', now }, key.id, new Date('2026-05-01T00:00:00Z'))
  // Compromised by the function, not through the app: the app hears of it by NOTIFY.
  t.equal((await verifyOnceHeard(app.app, second.jwt, 'invalid')).status, 'invalid', 'a JWT key withdrawn since before the signature: invalid, cache or not')
})
