import { spawnSync } from 'node:child_process'
import t from 'tap'
import { SCOPES } from '../src/capabilities/staff-access/bearer-auth.js'
import { build, type TestApp } from './helpers/build-app.js'

/**
 * Walks Fastify's route table: every staff route declares a scope, and
 * answers no key, a revoked key, an expired key and a key without its scope
 * with 401/401/401/403 problem+json (401 with WWW-Authenticate).
 */

const sampleUrl = (url: string): string => url.replace(':version', '1').replace(/:[A-Za-z]+/g, 'AAAAAAAAAAAA')

async function makeKey (app: TestApp, scopes: string[], expiresAt?: string): Promise<{ id: string, key: string }> {
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: `test key ${scopes.length}`, scopes, ...(expiresAt !== undefined ? { expiresAt } : {}) } })
  if (response.statusCode !== 201) throw new Error(response.body)
  return response.json()
}

t.test('every staff route declares a scope and refuses missing, revoked, expired and out-of-scope keys', async (t) => {
  let now = new Date('2026-11-25T00:00:00Z')
  const app = await build(t, { clock: () => now })
  // The W3C VC API issuer routes live at the paths that API names, with staff keys too.
  const staffRoutes = app.app.routeTable.filter((r) => r.url.startsWith('/api/v1/') || r.url === '/credentials/issue' || r.url === '/credentials/status')
  t.ok(staffRoutes.some((r) => r.url === '/credentials/issue') && staffRoutes.some((r) => r.url === '/credentials/status'), 'the VC API issuer routes are among them')
  t.ok(staffRoutes.length >= 15, `${staffRoutes.length} staff routes found`)

  const revoked = await makeKey(app, [...SCOPES])
  await app.app.inject({ method: 'POST', url: `/api/v1/api-keys/${revoked.id}/revoke`, headers: app.auth })
  const expiring = await makeKey(app, [...SCOPES], '2026-11-26T00:00:00Z')
  const keysByScope = new Map<string, string>()
  for (const scope of SCOPES) keysByScope.set(scope, (await makeKey(app, SCOPES.filter((s) => s !== scope))).key)
  now = new Date('2026-11-27T00:00:00Z') // the expiring key has expired

  for (const route of staffRoutes) {
    const methods = ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
    const scope = route.config?.scope
    t.ok(scope !== undefined && (SCOPES as readonly string[]).includes(scope), `${route.url} declares a scope (${String(scope)})`)
    if (scope === undefined) continue
    for (const method of methods) {
      const url = sampleUrl(route.url)
      const call = async (key?: string) => await app.app.inject({ method: method as 'GET', url, headers: key === undefined ? {} : { authorization: `Bearer ${key}` }, payload: method === 'GET' ? undefined : {} })
      const none = await call()
      t.equal(none.statusCode, 401, `${method} ${route.url}: no key`)
      t.match(none.headers['www-authenticate'], /^Bearer/, `${method} ${route.url}: WWW-Authenticate`)
      t.match(none.headers['content-type'], /^application\/problem\+json/)
      const wasRevoked = await call(revoked.key)
      t.equal(wasRevoked.statusCode, 401, `${method} ${route.url}: revoked key`)
      t.match(wasRevoked.json().detail, /was revoked on/)
      const expired = await call(expiring.key)
      t.equal(expired.statusCode, 401, `${method} ${route.url}: expired key`)
      t.match(expired.json().detail, /expired on/)
      const outOfScope = await call(keysByScope.get(scope))
      t.equal(outOfScope.statusCode, 403, `${method} ${route.url}: key without "${scope}"`)
      t.equal(outOfScope.json().type, 'urn:tessera:problem:forbidden')
      t.match(outOfScope.json().detail, new RegExp(`"${scope}"`))
    }
  }
  const garbage = await app.app.inject({ method: 'GET', url: '/api/v1/achievements', headers: { authorization: 'Bearer tsk_AAAAAAAAAAAA_not-the-secret-at-all-not-the-secret-at-all-xx' } })
  t.equal(garbage.statusCode, 401)
})

t.test('a scoped key works within its scopes, is named in the audit trail, and its use is recorded', async (t) => {
  const app = await build(t)
  const created = await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'Exam office', scopes: ['achievements:write', 'achievements:read'] } })
  t.equal(created.statusCode, 201)
  const { id, key, prefix } = created.json()
  t.match(key, new RegExp(`^${prefix}_[A-Za-z0-9_-]{43}$`), 'the key starts with its visible prefix')
  t.equal(created.headers['cache-control'], 'no-store')
  const made = await app.app.inject({ method: 'POST', url: '/api/v1/achievements', headers: { authorization: `Bearer ${key}` }, payload: { name: 'X', description: 'd', criteria: { narrative: 'n' } } })
  t.equal(made.statusCode, 201)
  const [event] = await app.sql`select actor from audit_events where action = 'achievement.created'`
  t.equal(event!.actor, id, 'the audit trail names the key')
  const audit = (await app.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=achievement.created', headers: app.auth })).json()
  t.equal(audit.items[0].actorName, 'Exam office')
  const list = (await app.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: app.auth })).json()
  const listed = list.items.find((k: { id: string }) => k.id === id)
  t.notOk('key' in listed, 'the secret is never listed')
  t.type(listed.lastUsedAt, 'string', 'last use recorded')
  const [stored] = await app.sql`select secret_hash from api_keys where id = ${id}`
  t.equal(stored!.secret_hash.length, 32, 'only a SHA-256 hash is stored')
  t.notOk(JSON.stringify(list).includes(key.split('_').at(-1)), 'no secret anywhere in the list')
  t.equal((await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'x', scopes: ['everything'] } })).statusCode, 400)
  t.equal((await app.app.inject({ method: 'POST', url: '/api/v1/api-keys/bootstrap/revoke', headers: app.auth })).statusCode, 409)
})

t.test('the admin CLI creates, lists and revokes keys', async (t) => {
  const app = await build(t)
  const env = { ...process.env, DATABASE_URL: app.config.databaseUrl ?? '', LOG_LEVEL: 'silent' }
  const admin = (...args: string[]): { status: number | null, stdout: string, stderr: string } => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], { env, encoding: 'utf8' })
    return { status: run.status, stdout: run.stdout, stderr: run.stderr }
  }
  const created = admin('api-keys', 'create', '--name', 'Registrar', '--scopes', 'credentials:read,audit:read')
  t.equal(created.status, 0, created.stderr)
  const key = /^(tsk_\S+)$/m.exec(created.stdout)?.[1]
  t.ok(key, 'the key is printed once')
  const read = await app.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${key ?? ''}` } })
  t.equal(read.statusCode, 200, 'and works')
  const id = /"id": "([A-Za-z0-9]{12})"/.exec(created.stdout)?.[1] ?? ''
  t.match(admin('api-keys', 'list').stdout, new RegExp(`${id}\\tRegistrar\\tcredentials:read,audit:read\\tactive`))
  t.equal(admin('api-keys', 'revoke', id).status, 0)
  t.equal((await app.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${key ?? ''}` } })).statusCode, 401, 'revoked at once')
  const bad = admin('api-keys', 'create', '--name', 'x', '--scopes', 'root')
  t.equal(bad.status, 64)
  t.match(bad.stderr, /unknown scopes: root/)
  const [event] = await app.sql`select actor from audit_events where action = 'api_key.revoked'`
  t.equal(event!.actor, 'cli')
})
