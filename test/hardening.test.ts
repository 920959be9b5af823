import t from 'tap'
import { build, createAchievement, issue } from './helpers/build-app.js'

t.test('security headers on every response; CORS on public routes only', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'H', email: 'h@example.com' } })
  const path = new URL(issued.url).pathname
  for (const [url, accept] of [[path, 'application/ld+json'], [path, 'text/html'], ['/api/v1/achievements', 'application/json'], ['/no-such-route', '*/*']] as const) {
    const response = await app.app.inject({ method: 'GET', url, headers: { accept, ...(url.startsWith('/api') ? app.auth : {}) } })
    t.match(response.headers['content-security-policy'], /default-src 'none'/, `${url} (${accept}): CSP`)
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
    t.ok(response.headers['strict-transport-security'], `${url}: HSTS`)
    t.equal(response.headers['cross-origin-resource-policy'], 'cross-origin', 'badge images may be embedded elsewhere')
  }
  const publicRead = await app.app.inject({ method: 'GET', url: path, headers: { origin: 'https://employer.example' } })
  t.equal(publicRead.headers['access-control-allow-origin'], '*')
  const preflight = await app.app.inject({ method: 'OPTIONS', url: '/credentials/verify', headers: { origin: 'https://employer.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], '*')
  const staff = await app.app.inject({ method: 'GET', url: '/api/v1/achievements', headers: { ...app.auth, origin: 'https://evil.example' } })
  t.equal(staff.headers['access-control-allow-origin'], undefined, 'no CORS on the staff API')
})

t.test('public verification is rate limited per client: 429 problem+json with Retry-After', async (t) => {
  const app = await build(t, { env: { RATE_LIMIT_VERIFY_PER_MINUTE: '3', RATE_LIMIT_LOOKUP_PER_MINUTE: '5' } })
  const verify = async () => await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: { foo: 1 } } })
  for (let i = 0; i < 3; i++) t.equal((await verify()).statusCode, 422)
  const limited = await verify()
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.equal(limited.json().type, 'urn:tessera:problem:too_many_requests')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After')
  const statuses = []
  for (let i = 0; i < 6; i++) statuses.push((await app.app.inject({ method: 'GET', url: '/status-lists/AAAAAAAAAAAAAAAA' })).statusCode)
  t.same(statuses, [404, 404, 404, 404, 404, 429], 'lookups have their own limit')
})

t.test('failed staff authentication is limited per client IP; behind TRUST_PROXY the forwarded address counts', async (t) => {
  const app = await build(t, { env: { RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '3', TRUST_PROXY: 'true' } })
  const attempt = async (ip: string, key = 'wrong-key-wrong-key-wrong-key-wrong') => await app.app.inject({ method: 'GET', url: '/api/v1/achievements', headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': ip } })
  const statuses = []
  for (let i = 0; i < 6; i++) statuses.push((await attempt('203.0.113.7')).statusCode)
  t.same(statuses.slice(0, 3), [401, 401, 401])
  t.equal(statuses.at(-1), 429, 'refused after too many failures')
  const blocked = await attempt('203.0.113.7', app.auth.authorization.slice(7))
  t.equal(blocked.statusCode, 429, 'even with a good key, until the window ends')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  t.equal((await attempt('198.51.100.9', app.auth.authorization.slice(7))).statusCode, 200, 'another client is not affected')
})

t.test('a saturated event loop sheds load: 503 problem+json with Retry-After, then recovers', async (t) => {
  const app = await build(t, { env: { MAX_EVENT_LOOP_DELAY_MS: '200' } })
  t.equal((await app.app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  const until = Date.now() + 1500
  while (Date.now() < until) { /* saturate the loop, as a CPU-bound burst would */ }
  await new Promise((resolve) => setTimeout(resolve, 50)) // let the sampler see it
  const shed = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: {} } })
  t.equal(shed.statusCode, 503)
  t.equal(shed.json().type, 'urn:tessera:problem:service_unavailable')
  t.equal(shed.headers['retry-after'], '5')
  let recovered = 0
  for (let i = 0; i < 40 && recovered !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    recovered = (await app.app.inject({ method: 'GET', url: '/health' })).statusCode
  }
  t.equal(recovered, 200, 'answers again once the loop is free')
})
