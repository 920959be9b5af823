import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

/**
 * Generative test over every route: random and malformed bodies, wrong types,
 * huge strings, deep nesting, unicode edge cases, prototype keys, random
 * content types, parameters and query strings, with and without a staff key,
 * and forged VC-JWTs. Properties: never a 5xx, and a refused request writes
 * nothing. FUZZ_RUNS sets the number of cases (CI: the default; `npm run fuzz`: many more).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 250)

/** encodeURIComponent, except that a lone surrogate (which it refuses) becomes raw invalid UTF-8 bytes: what an attacker would send. */
const encodeSegment = (value: string): string => {
  try {
    return encodeURIComponent(value)
  } catch {
    return '%ED%A0%80' + encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))
  }
}

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

async function tableCounts (app: TestApp): Promise<string> {
  const [row] = await app.sql`select (select count(*) from achievements) a, (select count(*) from credentials) c, (select count(*) from credential_versions) v,
    (select count(*) from audit_events) e, (select count(*) from api_keys) k, (select count(*) from status_list_entries) s`
  return JSON.stringify(row)
}

const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\u202e', '../../etc/passwd', '%00', '%2e%2e', '__proto__', 'constructor', 'A'.repeat(70), '1e309', '-1', '0x10', 'null', '<script>'),
  fc.nat().map((n) => 'x'.repeat(n % 5000))
)

const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(nasty, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  fc.record({ achievementId: nasty, recipient: fc.oneof(fc.record({ name: nasty, email: nasty }), nasty) }, { requiredKeys: [] }),
  fc.record({ verifiableCredential: fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty), options: fc.dictionary(nasty, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')),
  fc.record({ items: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }) })
)

const rawBody = fc.oneof(
  jsonish.map((v) => JSON.stringify(v) ?? 'null'),
  nasty,
  fc.nat({ max: 20000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.nat({ max: 20000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constantFrom('{', '{"a":1,}', '\uFEFF{}', 'achievementId,name,email\n"unterminated', '<svg><openbadges:credential><![CDATA[', '\x89PNG\r\n\x1a\nIHDR')
)

t.test(`fuzz: ${RUNS} random requests over every route; no 5xx; a refused request writes nothing`, async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Fuzz Target', email: 'fuzz@example.com' } })
  const routes = app.app.routeTable.filter((r) => !r.url.startsWith('/docs')).flatMap((r) => ([] as string[]).concat(r.method).filter((m) => m !== 'HEAD').map((method) => ({ method, url: r.url })))
  const params = fc.oneof(fc.constant(issued.id), fc.constant(achievement.id), fc.constant('1'), fc.constant('badge.png'), nasty)
  let cases = 0
  let serverErrors = 0

  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...routes), params, params, params,
    fc.dictionary(fc.oneof(nasty, fc.constantFrom('limit', 'after', 'status', 'email', 'since')), nasty, { maxKeys: 3 }),
    rawBody,
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/csv', 'image/png', 'image/svg+xml', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', undefined),
    fc.constantFrom('admin', 'none', 'garbage'),
    async (route, p1, p2, p3, query, body, contentType, auth) => {
      const values = [p1, p2, p3]
      const url = route.url.replace(/:[A-Za-z]+/g, () => encodeSegment(values.shift() ?? 'x')) +
        (Object.keys(query).length === 0 ? '' : '?' + new URLSearchParams(query).toString())
      const headers: Record<string, string> = {}
      if (contentType !== undefined && route.method !== 'GET') headers['content-type'] = contentType
      if (auth === 'admin') headers.authorization = app.auth.authorization
      if (auth === 'garbage') headers.authorization = 'Bearer tsk_AAAAAAAAAAAA_' + 'x'.repeat(43)
      const before = await tableCounts(app)
      const request: InjectOptions = { method: route.method as 'GET', url, headers, ...(route.method === 'GET' ? {} : { payload: body }) }
      const response = await app.app.inject(request)
      cases++
      if (response.statusCode >= 500) serverErrors++
      if (response.statusCode >= 500) throw new Error(`${route.method} ${url} -> ${response.statusCode}: ${response.body.slice(0, 300)}`)
      if (response.statusCode >= 400 && await tableCounts(app) !== before) throw new Error(`${route.method} ${url} was refused (${response.statusCode}) but wrote something`)
    }
  ), { numRuns: RUNS, seed: process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED) })
  t.equal(serverErrors, 0, `${cases} cases, ${serverErrors} server errors`)
  t.comment(`fuzz: ${cases} requests over ${routes.length} route methods, ${serverErrors} 5xx`)
})

t.test('forged VC-JWTs never verify: alg none, HS256 keyed with the public key, a foreign kid, a swapped payload', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Real', email: 'real@example.com' } })
  const [header, payload] = issued.jwt.split('.') as [string, string, string]
  const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, any>
  const jwk = (await app.app.inject({ method: 'GET', url: new URL(decodedHeader.kid as string).pathname })).body
  const forged = { ...claims, credentialSubject: { ...claims.credentialSubject, name: 'Mallory' } }
  const hs256 = (key: string): string => {
    const head = b64({ alg: 'HS256', kid: decodedHeader.kid, typ: 'JWT' })
    const body = b64(forged)
    return `${head}.${body}.${createHmac('sha256', key).update(`${head}.${body}`).digest('base64url')}`
  }
  const cases: Record<string, string> = {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(forged)}.`,
    'alg none with our kid': `${b64({ alg: 'none', kid: decodedHeader.kid, typ: 'JWT' })}.${b64(forged)}.`,
    'HS256 keyed with the public JWK': hs256(jwk),
    'HS256 keyed with the modulus': hs256(JSON.parse(jwk).n),
    'a foreign kid': `${b64({ ...decodedHeader, kid: 'https://evil.example/keys/1' })}.${payload}.${issued.jwt.split('.')[2]!}`,
    'a swapped payload': `${header}.${b64(forged)}.${issued.jwt.split('.')[2]!}`
  }
  for (const [name, jwt] of Object.entries(cases)) {
    const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: jwt } })
    t.ok(response.statusCode === 422 || response.statusCode === 400, `${name}: ${response.statusCode}`)
    if (response.statusCode === 422) {
      t.equal(response.json().verified, false, name)
      t.not(response.json().status, 'valid', name)
    }
  }
})
