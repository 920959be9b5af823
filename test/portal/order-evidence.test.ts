import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { build } from '../helpers/build-app.js'
import { CookieJar, csrfToken, getPage, postForm } from '../helpers/portal.js'

/**
 * Evidence on a badge order: the requester gives the link of a badge they
 * already hold (an Open Badges 2.0 assertion from the body's previous
 * provider, here a real loopback Fastify app reached under
 * OUTBOUND_ALLOW_LOOPBACK), and staff see its verification next to the
 * order: verified afresh when one order is read, the last result in the queue.
 */

type Json = Record<string, unknown>
type App = Awaited<ReturnType<typeof build>>
const OB2 = 'https://w3id.org/openbadges/v2'
const NOW = new Date('2026-12-04T12:00:00Z')

async function startPreviousProvider (t: Test): Promise<{ base: string, served: Map<string, Json>, hits: string[] }> {
  const served = new Map<string, Json>()
  const hits: string[] = []
  const provider = Fastify()
  provider.get('/*', async (request, reply) => {
    hits.push(request.url)
    const document = served.get(request.url)
    if (document === undefined) return await reply.code(404).send('not here')
    return await reply.header('content-type', 'application/ld+json').send(JSON.stringify(document))
  })
  await provider.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await provider.close() })
  const base = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}`
  served.set('/issuer', { '@context': OB2, type: 'Issuer', id: `${base}/issuer`, name: 'Previous Provider', url: base, email: 'badges@previous.example' })
  served.set('/badges/cma', { '@context': OB2, type: 'BadgeClass', id: `${base}/badges/cma`, name: 'Certified Medical Assistant', description: 'Certified.', image: `${base}/badges/cma.png`, criteria: { narrative: 'Passed the exam.' }, issuer: `${base}/issuer` })
  return { base, served, hits }
}

const assertion = (base: string, path: string, extra: Json = {}): Json => ({
  '@context': OB2,
  type: 'Assertion',
  id: `${base}${path}`,
  recipient: { type: 'email', hashed: false, identity: 'sam.lee@example.org' },
  badge: `${base}/badges/cma`,
  verification: { type: 'HostedBadge' },
  issuedOn: '2023-01-15T00:00:00Z',
  expires: '2028-01-15T00:00:00Z',
  ...extra
})

const SAM = { name: 'Sam Lee', email: 'sam.lee@example.org', certificateNumber: 'CMA-123456', certifiedOn: '2023-01-15', consent: 'yes' }

async function order (app: App, fields: Record<string, string>): Promise<{ status: number, body: string }> {
  const jar = new CookieJar()
  const form = await getPage(app, jar, '/order')
  const response = await postForm(app, jar, '/order', { _csrf: csrfToken(form.body), ...fields })
  return { status: response.statusCode, body: response.body }
}

async function queue (app: App): Promise<Json[]> {
  const response = await app.app.inject({ url: '/api/v1/orders?state=pending', headers: app.auth })
  return response.json().items as Json[]
}

async function readOrder (app: App, id: string): Promise<Json> {
  const response = await app.app.inject({ url: `/api/v1/orders/${id}`, headers: app.auth })
  if (response.statusCode !== 200) throw new Error(response.body)
  return response.json() as Json
}

async function setup (t: Test): Promise<{ app: App, base: string, served: Map<string, Json>, hits: string[] }> {
  const provider = await startPreviousProvider(t)
  const app = await build(t, { clock: () => NOW, env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  return { app, ...provider }
}

t.test('the form offers the evidence link as an optional field', async (t) => {
  const { app } = await setup(t)
  const form = await getPage(app, new CookieJar(), '/order')
  t.match(form.body, /<label for="evidence">Link to your current badge \(for example from our previous badge provider\)/)
  t.match(form.body, /<input id="evidence" name="evidence" type="url"/)
  t.notMatch(form.body, /name="evidence"[^>]*required/, 'optional')
  const plain = await order(app, SAM)
  t.equal(plain.status, 200, 'an order without a link is still received')
  const [item] = await queue(app)
  t.notOk(item !== undefined && 'evidence' in item, 'no evidence without a link')
})

t.test('a valid Open Badges 2.0 link: the queue shows it unchecked, reading the order verifies it (unverified_issuer, then valid once the provider is in the registry), and the queue shows the last result without fetching', async (t) => {
  const { app, base, served, hits } = await setup(t)
  served.set('/assertions/1', assertion(base, '/assertions/1'))
  const link = `${base}/assertions/1`
  const sent = await order(app, { ...SAM, evidence: `  ${link} ` })
  t.equal(sent.status, 200)
  t.match(sent.body, /your order was received/)
  t.same(hits, [], 'submitting the form fetches nothing')

  const [listed] = await queue(app)
  t.same(listed?.evidence, { url: link, verification: null }, 'stored as given (trimmed), not yet checked')

  const first = await readOrder(app, listed?.id as string)
  t.match(first.evidence, {
    url: link,
    verification: { status: 'unverified_issuer', checkedAt: NOW.toISOString(), credential: { issuer: { id: `${base}/issuer`, name: 'Previous Provider' }, achievement: { name: 'Certified Medical Assistant' }, validUntil: '2028-01-15T00:00:00Z' } }
  })
  t.match((first.evidence as Json).verification, { checks: [{ id: 'format', result: 'passed' }] })
  t.ok(hits.includes('/assertions/1'), 'the link was fetched through the outbound client')

  const added = await app.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: app.auth, payload: { issuerId: `${base}/issuer`, name: 'Previous Provider' } })
  t.equal(added.statusCode, 201, added.body)
  const second = await readOrder(app, listed?.id as string)
  t.match(second.evidence, { url: link, verification: { status: 'valid', notice: null } })
  const checks = ((second.evidence as Json).verification as { checks: Array<{ id: string, result: string }> }).checks
  t.same(checks.map((c) => [c.id, c.result]), [['format', 'passed'], ['schema', 'passed'], ['proof', 'passed'], ['signed_data', 'passed'], ['key_binding', 'passed'], ['validity_period', 'passed'], ['status', 'passed']])

  const fetched = hits.length
  const [again] = await queue(app)
  t.match(again?.evidence, { url: link, verification: { status: 'valid', checkedAt: NOW.toISOString() } }, 'the queue shows the stored result')
  t.equal(hits.length, fetched, 'listing the queue fetches nothing')
})

t.test('an expired badge reads expired', async (t) => {
  const { app, base, served } = await setup(t)
  await app.app.inject({ method: 'POST', url: '/api/v1/registry/issuers', headers: app.auth, payload: { issuerId: `${base}/issuer`, name: 'Previous Provider' } })
  served.set('/assertions/old', assertion(base, '/assertions/old', { expires: '2025-01-01T00:00:00Z' }))
  t.equal((await order(app, { ...SAM, evidence: `${base}/assertions/old` })).status, 200)
  const [listed] = await queue(app)
  const read = await readOrder(app, listed?.id as string)
  t.match(read.evidence, { verification: { status: 'expired', checks: [{ id: 'format' }] } })
  const checks = ((read.evidence as Json).verification as { checks: Array<{ id: string, result: string }> }).checks
  t.match(checks.find((c) => c.id === 'validity_period'), { result: 'failed' })
})

t.test('an unreachable link or one that answers 404 reads indeterminate (fail closed), saying why', async (t) => {
  const { app, base } = await setup(t)
  const gone = Fastify()
  await gone.listen({ port: 0, host: '127.0.0.1' })
  const deadPort = (gone.server.address() as AddressInfo).port
  await gone.close()

  t.equal((await order(app, { ...SAM, evidence: `http://127.0.0.1:${deadPort}/assertions/1` })).status, 200)
  t.equal((await order(app, { ...SAM, certificateNumber: 'CMA-2', evidence: `${base}/assertions/missing` })).status, 200)
  // One clock for both orders, so the queue's order between them is the ids': find each by its number.
  const orders = await queue(app)
  const dead = orders.find((o) => o.certificateNumber === 'CMA-123456')
  const missing = orders.find((o) => o.certificateNumber === 'CMA-2')

  const unreachable = await readOrder(app, dead?.id as string)
  t.match(unreachable.evidence, { verification: { status: 'indeterminate', notice: /could not be fetched.*Nothing about the badge is established/, checks: [{ id: 'format', result: 'unknown' }] } })
  const notFound = await readOrder(app, missing?.id as string)
  t.match(notFound.evidence, { verification: { status: 'indeterminate', notice: /answered HTTP 404/ } })
  const stored = await queue(app)
  t.same(stored.map((o) => (o.evidence as { verification: { status: string } }).verification.status), ['indeterminate', 'indeterminate'], 'the indeterminate results are stored too')
})

t.test('a link that is not an https URL is refused on the form, saying so, and nothing is stored', async (t) => {
  const { app } = await setup(t)
  for (const evidence of ['my badge from last year', 'ftp://badges.example.org/a/1', 'http://badges.example.org/a/1', 'https://user:secret@badges.example.org/a/1', `https://badges.example.org/${'a'.repeat(2000)}`]) {
    const refused = await order(app, { ...SAM, evidence })
    t.equal(refused.status, 400, evidence.slice(0, 40))
    t.match(refused.body, /Please check the form/)
    t.match(refused.body, /The link to your current badge must|could not be read; check each field \(.*links up to 2,000\)/)
  }
  const notUrl = await order(app, { ...SAM, evidence: 'my badge from last year' })
  t.match(notUrl.body, /The link to your current badge must be a web address starting with https:\/\//)
  t.match(notUrl.body, /value="my badge from last year"/, 'the form keeps what was typed')
  t.same(await queue(app), [], 'nothing stored')
})
