import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { build, createAchievement, issue } from '../helpers/build-app.js'

/**
 * POST /credentials/verify given a credential's link (`"verifiableCredential":
 * "https://…"`): fetched through the same outbound client as a link pasted on
 * the /verify page, from a real loopback "issuer" (a Fastify app in this file,
 * under OUTBOUND_ALLOW_LOOPBACK), then verified. Before, any string that was
 * not a compact JWS was a 400.
 */

type Json = Record<string, unknown>
const EXAMPLES = new URL('../fixtures/ob3/examples/', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, EXAMPLES), 'utf8')
const OB2 = 'https://w3id.org/openbadges/v2'

async function startIssuer (t: Test): Promise<{ base: string, served: Map<string, { body: string, type: string }> }> {
  const served = new Map<string, { body: string, type: string }>()
  const issuer = Fastify()
  issuer.get('/*', async (request, reply) => {
    const answer = served.get(request.url)
    if (answer === undefined) return await reply.code(404).send('not here')
    return await reply.header('content-type', answer.type).send(answer.body)
  })
  await issuer.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await issuer.close() })
  return { base: `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`, served }
}

type Body = { status: string, verified: boolean, type?: string, detail?: string, checks: Array<{ id: string, result: string, message: string }> }
const verify = async (app: Awaited<ReturnType<typeof build>>, credential: unknown): Promise<{ statusCode: number, body: Body }> => {
  const response = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
  return { statusCode: response.statusCode, body: response.json() }
}
const check = (body: Body, id: string): Body['checks'][number] | undefined => body.checks.find((c) => c.id === id)

t.test('an https link to a JSON-LD credential or a VC-JWT is fetched and verified', async (t) => {
  const issuer = await startIssuer(t)
  issuer.served.set('/badges/simple.json', { body: read('valid/validator/simple.json'), type: 'application/ld+json' })
  issuer.served.set('/badges/simple.jwt', { body: read('valid/jwt/simple-vcdm2-rs256-jwk.jwt').trim(), type: 'application/vc+jwt' })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: 'https://example.com/issuers/876543,https://1edtech.edu/issuers/565049' } })

  const json = await verify(app, `${issuer.base}/badges/simple.json`)
  t.equal(json.statusCode, 200, JSON.stringify(json.body))
  t.equal(json.body.status, 'valid', 'the fetched credential is the one verified')

  const jwt = await verify(app, `${issuer.base}/badges/simple.jwt`)
  t.equal(jwt.statusCode, 200, JSON.stringify(jwt.body))
  t.equal(jwt.body.status, 'valid')

  const tampered = JSON.parse(read('valid/validator/simple.json')) as Json
  issuer.served.set('/badges/tampered.json', { body: JSON.stringify({ ...tampered, name: 'Something else' }), type: 'application/json' })
  const bad = await verify(app, `${issuer.base}/badges/tampered.json`)
  t.equal(bad.statusCode, 422, 'a fetched credential that does not verify is examined and found not valid, like a posted one')
  t.equal(bad.body.status, 'invalid')
})

t.test('our own credential\'s link is read from the database and verified', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const answer = await verify(app, issued.url)
  t.equal(answer.statusCode, 200, JSON.stringify(answer.body))
  t.equal(answer.body.status, 'valid')
  const unknown = await verify(app, `${app.config.publicBaseUrl}/credentials/${'0'.repeat(8)}-0000-4000-8000-000000000000`)
  t.equal(unknown.statusCode, 400)
  t.equal(unknown.body.type?.endsWith('credential_link_unreadable'), true, String(unknown.body.type))
  t.match(unknown.body.detail, 'No credential of this service has that link.')
})

t.test('a link that cannot be read is a 400 problem saying why, never a verification result', async (t) => {
  const issuer = await startIssuer(t)
  issuer.served.set('/page.html', { body: '<!doctype html><p>My badge</p>', type: 'text/html' })
  issuer.served.set('/broken.json', { body: '{"@context": ', type: 'application/json' })
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  for (const [path, says] of [['/missing', 'HTTP 404'], ['/page.html', 'neither JSON nor a compact JWT'], ['/broken.json', 'not valid JSON']] as const) {
    const answer = await verify(app, `${issuer.base}${path}`)
    t.equal(answer.statusCode, 400, path)
    t.equal(answer.body.type?.endsWith('credential_link_unreadable'), true, `${path}: ${String(answer.body.type)}`)
    t.match(answer.body.detail, says, path)
  }
  // Without the development switch, loopback is out of reach (and http is refused).
  const strict = await build(t)
  const refused = await verify(strict, `${issuer.base}/badges/simple.json`)
  t.equal(refused.statusCode, 400)
  t.match(refused.body.detail, 'Only https links')
  const local = await verify(strict, 'https://127.0.0.1:1/badge.json')
  t.equal(local.statusCode, 400)
  t.match(local.body.detail, 'private or local network')
  // A string that is neither a link nor a JWS is still malformed.
  const neither = await verify(strict, 'not a credential')
  t.equal(neither.statusCode, 400)
  t.match(neither.body.detail, 'or an https URL')
})

t.test('an Open Badges 2.0 hosted assertion fetched by its link must have that link as its id', async (t) => {
  const issuer = await startIssuer(t)
  const base = issuer.base
  const json = (document: Json): { body: string, type: string } => ({ body: JSON.stringify(document), type: 'application/ld+json' })
  issuer.served.set('/issuer', json({ '@context': OB2, type: 'Issuer', id: `${base}/issuer`, name: 'Previous Provider', url: base, email: 'badges@previous.example' }))
  issuer.served.set('/badges/cpt', json({ '@context': OB2, type: 'BadgeClass', id: `${base}/badges/cpt`, name: 'Phlebotomy Technician', description: 'Certified.', image: `${base}/badges/cpt.png`, criteria: { narrative: 'Passed the exam.' }, issuer: `${base}/issuer` }))
  const assertion = {
    '@context': OB2,
    type: 'Assertion',
    id: `${base}/assertions/1`,
    recipient: { type: 'email', hashed: false, identity: 'jane@example.org' },
    badge: `${base}/badges/cpt`,
    verification: { type: 'HostedBadge' },
    issuedOn: '2024-04-01T00:00:00Z'
  }
  issuer.served.set('/assertions/1', json(assertion))
  // The same assertion also answered at another path: its id is still /assertions/1.
  issuer.served.set('/share/abc', json(assertion))
  const app = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true', TRUSTED_ISSUERS: `${base}/issuer` } })

  const atItsId = await verify(app, `${base}/assertions/1`)
  t.equal(atItsId.statusCode, 200, JSON.stringify(atItsId.body.checks))
  t.equal(atItsId.body.status, 'valid')

  const elsewhere = await verify(app, `${base}/share/abc`)
  t.equal(elsewhere.statusCode, 422)
  t.equal(elsewhere.body.status, 'invalid')
  t.equal(check(elsewhere.body, 'proof')?.result, 'failed')
  t.match(check(elsewhere.body, 'proof')?.message, `fetched from ${base}/share/abc says its "id" is "${base}/assertions/1"`)
})
