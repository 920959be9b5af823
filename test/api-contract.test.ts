import { readFileSync } from 'node:fs'
import type { RouteOptions } from 'fastify'
import t from 'tap'
import { PROBLEMS } from '../src/kernel/errors.js'
import { validatorCompiler } from '../src/infrastructure/http/validator-compiler.js'
import { createWalletOffer } from '../src/capabilities/wallets/offers.js'
import { BASE_URL, build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { generateDidKey, signPresentation } from './helpers/did-key-signing.js'

/**
 * The contract is the routes' own schemas: each route names its summary, tags
 * and responses; /openapi.json is generated from them; and what a route
 * answers is what it declares (status and content type).
 */

const openApiPath = (url: string): string => url.replace(/:([A-Za-z]+)/g, '{$1}')
const methodsOf = (route: RouteOptions): string[] => ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD')

interface ResponseEntry { description?: string, type?: unknown, properties?: unknown, content?: Record<string, { schema?: Record<string, unknown> }> }
interface RouteSchema { hide?: boolean, summary?: unknown, tags?: unknown, response?: Record<string, ResponseEntry>, body?: { examples?: unknown[] }, params?: unknown, querystring?: unknown }
const schemaOf = (route: RouteOptions): RouteSchema => (route.schema ?? {}) as RouteSchema
/** Ours: every route but those of plugins (@fastify/swagger-ui's reference, @fastify/cors's preflight). */
const ourRoutes = (routes: readonly RouteOptions[]): RouteOptions[] => routes.filter((r) => !r.url.startsWith('/docs') && !([] as string[]).concat(r.method).includes('OPTIONS'))

const SIGNED_MEDIA_TYPES = ['application/ld+json', 'application/vc+ld+json', 'application/vc']

t.test('every route declares its summary, tags and responses itself, and /openapi.json is generated from them', async (t) => {
  const app = await build(t)
  const response = await app.app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(response.statusCode, 200)
  const doc = response.json()
  t.equal(doc.openapi, '3.1.0')
  const tagNames = new Set((doc.tags as Array<{ name: string, description: string }>).map((tag) => tag.name))
  let operations = 0
  let examples = 0
  let responses = 0
  for (const route of ourRoutes(app.app.routeTable)) {
    const schema = schemaOf(route)
    for (const method of methodsOf(route)) {
      const name = `${method} ${route.url}`
      t.ok(typeof schema.summary === 'string' && schema.summary.length > 0, `${name}: a summary on the route`)
      t.ok(Array.isArray(schema.tags) && schema.tags.length > 0 && schema.tags.every((tag) => tagNames.has(tag as string)), `${name}: tags on the route, each one the document describes`)
      const declared = schema.response ?? {}
      t.ok(Object.keys(declared).some((status) => /^[23]/.test(status)), `${name}: a success response`)
      for (const [status, entry] of Object.entries(declared)) {
        responses++
        t.ok(typeof entry.description === 'string' && entry.description.length > 0, `${name} ${status}: described`)
        const hasBody = entry.content !== undefined ? Object.values(entry.content).every((media) => media.schema !== undefined) : entry.type !== undefined || entry.properties !== undefined
        t.ok(hasBody, `${name} ${status}: a schema for its body, or type null for none`)
        // Signed documents: a schema that names properties would let the serializer drop or reorder some.
        for (const type of SIGNED_MEDIA_TYPES) {
          const media = entry.content?.[type]?.schema
          if (media !== undefined) t.ok(media.type === undefined && media.properties === undefined, `${name} ${status} ${type}: typeless, it cannot reshape a signed document`)
        }
      }
      if (schema.hide === true) continue
      // The problems every route like this one can meet, whatever its handler does.
      const expected = [500, 503]
      if (schema.params !== undefined || schema.querystring !== undefined || schema.body !== undefined || method !== 'GET') expected.push(400)
      if (route.config?.scope !== undefined) expected.push(401, 403, 429)
      if (route.config?.rateLimit !== undefined) expected.push(429)
      // The Open Badges API's refusals are the 1EdTech Imsx_StatusInfo, as its spec has them.
      const [sharedType, sharedRef] = route.url.startsWith('/ims/') ? ['application/json', 'Imsx_StatusInfo#'] : ['application/problem+json', 'Problem#']
      for (const status of expected) {
        t.ok(declared[status]?.content?.[sharedType]?.schema?.$ref === sharedRef, `${name}: declares ${status} as the shared ${sharedRef}`)
      }

      const operation = doc.paths[openApiPath(route.url)]?.[method.toLowerCase()]
      t.ok(operation, `${name} is in /openapi.json`)
      if (operation === undefined) continue
      operations++
      t.equal(operation.summary, schema.summary, `${name}: the document's summary is the route's`)
      t.same(operation.tags, schema.tags, `${name}: the document's tags are the route's`)
      t.same(Object.keys(operation.responses).sort(), Object.keys(declared).map((s) => s.toUpperCase()).sort(), `${name}: the document lists every response the route declares`)
      t.equal(operation.responses['500'].content[sharedType].schema.$ref, `#/components/schemas/${sharedRef.slice(0, -1)}`, `${name}: problems refer to the one ${sharedRef} schema`)
      if (route.url.startsWith('/api/v1/')) {
        t.same(operation.security, [{ bearer: [] }], `${name}: bearer security`)
        t.equal(operation['x-scope'], route.config?.scope, `${name}: its scope`)
      }
      for (const example of schema.body?.examples ?? []) {
        examples++
        const validate = validatorCompiler({ schema: schema.body as object, httpPart: 'body', method, url: route.url }) as (data: unknown) => boolean
        t.ok(validate(example), `${name}: example ${JSON.stringify(example).slice(0, 60)} validates`)
      }
    }
  }
  t.ok(operations >= 50, `${operations} operations documented`)
  t.ok(responses >= 400, `${responses} responses declared`)
  t.ok(examples >= 10, `${examples} request examples validated`)
  const problem = doc.components.schemas.Problem
  t.same(problem.required, ['type', 'title', 'status', 'detail'])
  t.same([...problem.properties.type.enum].sort(), Object.keys(PROBLEMS).map((code) => `urn:tessera:problem:${code}`).sort(), 'Problem names every code of the catalogue')
  t.same(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: 'A staff API key (tsk_...) or the bootstrap ADMIN_API_KEY' })
  const docs = await app.app.inject({ method: 'GET', url: '/docs' })
  t.equal(docs.statusCode, 200, 'the browsable reference is served')
  t.match(docs.body, /swagger-ui/)
})

t.test('every route answers only statuses and content types it declares (a tour of every route)', async (t) => {
  const app = await build(t, { clock: () => new Date('2026-03-31T12:00:00Z') })
  const answered: Array<{ route: string, method: string, status: number, type: string }> = []
  app.app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === undefined) return
    answered.push({ route: request.routeOptions.url, method: request.method, status: reply.statusCode, type: String(reply.getHeader('content-type') ?? '').split(';')[0]!.trim() })
  })
  const call = async (method: string, url: string, options: { headers?: Record<string, string>, payload?: unknown } = {}): Promise<{ statusCode: number, body: string, headers: Record<string, unknown>, json: () => any }> =>
    await app.app.inject({ method: method as 'GET', url, headers: options.headers ?? {}, ...(options.payload !== undefined ? { payload: options.payload as string } : {}) })
  const staff = async (method: string, url: string, payload?: unknown): ReturnType<typeof call> => await call(method, `/api/v1${url}`, { headers: app.auth, ...(payload !== undefined ? { payload } : {}) })
  const path = (url: string): string => url.slice(BASE_URL.length)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  // Operations and the public documents.
  await call('GET', '/')
  await call('GET', '/', { headers: { accept: 'text/html' } })
  await call('GET', '/health')
  await call('GET', '/ready')
  await call('GET', '/metrics')
  const achievement = await createAchievement(app)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  const id = issued.id
  await call('GET', path(issued.credential.issuer.id))
  await call('GET', '/issuers/nosuchissuer0')
  const jwks = (await call('GET', '/.well-known/jwks.json')).json()
  await call('GET', path(jwks.keys[0].kid))
  await call('GET', '/keys/no-such-key')
  await call('GET', `/achievements/${achievement.id}`)
  await call('GET', `/achievements/${achievement.id}`, { headers: { accept: 'image/gif' } })

  // The credential's URL in each representation, its versions and files.
  const current = await call('GET', `/credentials/${id}`)
  await call('GET', `/credentials/${id}`, { headers: { 'if-none-match': String(current.headers.etag) } })
  await call('GET', `/credentials/${id}`, { headers: { accept: 'application/vc+jwt' } })
  await call('GET', `/credentials/${id}`, { headers: { accept: 'text/html' } })
  await call('GET', `/credentials/${id}`, { headers: { accept: 'image/gif' } })
  await call('GET', '/credentials/AAAAAAAAAAAA')
  await call('GET', `/credentials/${id}/versions`)
  await call('GET', `/credentials/${id}/versions/1`)
  await call('GET', `/credentials/${id}/versions/9`)
  for (const file of ['credential.jsonld', 'credential.jwt', 'badge.png', 'badge.svg', 'wallet-card.pdf']) await call('GET', `/credentials/${id}/${file}`)
  await call('GET', `/credentials/${id}/versions/1/credential.jsonld`)
  await call('GET', '/credentials/AAAAAAAAAAAA/versions/1/badge.png')
  const statusList = path(issued.credential.credentialStatus.statusListCredential)
  const list = await call('GET', statusList)
  await call('GET', statusList, { headers: { 'if-none-match': String(list.headers.etag) } })
  await call('GET', '/status-lists/AAAAAAAAAAAA')

  // Verification: the API and the page.
  await call('POST', '/credentials/verify', { payload: { verifiableCredential: issued.credential } })
  await call('POST', '/credentials/verify', { payload: { verifiableCredential: { ...issued.credential, name: 'Forged' } } })
  await call('POST', '/credentials/verify', { payload: { verifiableCredential: 42 } })
  const holder = await generateDidKey()
  const presentation = { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: holder.did, verifiableCredential: [issued.credential] }
  await call('POST', '/presentations/verify', { payload: { verifiablePresentation: await signPresentation(presentation, holder, 'tour'), options: { challenge: 'tour' } } })
  await call('POST', '/presentations/verify', { payload: { verifiablePresentation: presentation } })
  await call('POST', '/presentations/verify', { payload: { verifiablePresentation: 42 } })
  await call('GET', `/credentials/${id}/verification`)
  // The W3C VC API issuer routes (staff keys, at the VC API's paths): issue, a refusal, revoke, an unknown credential.
  const vcApiIssued = await call('POST', '/credentials/issue', { headers: app.auth, payload: { credential: { achievementId: achievement.id, recipient: { name: 'Vic Api', email: 'vic@example.com' } }, options: { notify: false } } })
  await call('POST', '/credentials/issue', { headers: app.auth, payload: { credential: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'] } } })
  await call('POST', '/credentials/status', { headers: app.auth, payload: { credentialId: vcApiIssued.json().verifiableCredential.id, credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] } })
  await call('POST', '/credentials/status', { headers: app.auth, payload: { credentialId: 'AAAAAAAAAAAA', credentialStatus: [{ type: 'BitstringStatusListEntry', status: true }] } })
  await call('GET', '/verify')
  const boundary = 'XBOUNDARY'
  const multipart = (text: string): { headers: Record<string, string>, payload: string } => ({ headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${text}\r\n--${boundary}--\r\n` })
  await call('POST', '/verify', multipart(JSON.stringify(issued.credential)))
  await call('POST', '/verify', multipart(''))

  // Holders: email preferences, the portal and the order form (form posts without their CSRF token).
  await call('GET', `/notifications/unsubscribe/${id}?token=nope`)
  await call('POST', `/notifications/unsubscribe/${id}?token=nope`, { headers: form, payload: '' })
  await call('GET', '/account')
  await call('GET', '/account/sign-in?token=abc')
  await call('GET', `/account/badges/${id}/correction`)
  await call('GET', '/order')
  for (const url of ['/account', '/account/sign-in', '/account/sign-out', `/account/badges/${id}/privacy`, `/account/badges/${id}/correction`, '/order']) {
    await call('POST', url, { headers: form, payload: 'email=a%40example.org' })
  }
  // The continuing-education page: signed out is the sign-in form; posts without their CSRF token (multipart ones too) the 403 page.
  const ce = `/account/badges/${id}/continuing-education`
  for (const url of [ce, `${ce}/activities/AAAAAAAAAAAA/evidence`]) await call('GET', url)
  for (const url of [`${ce}/activities`, `${ce}/credentials`]) await call('POST', url, multipart(''))
  for (const url of [`${ce}/apply`, `${ce}/activities/AAAAAAAAAAAA/remove`]) await call('POST', url, { headers: form, payload: '' })

  // The Open Badges API: discovery, and without a token each resource's 401 Imsx_StatusInfo.
  await call('GET', '/ims/ob/v3p0/discovery')
  await call('GET', '/ims/ob/v3p0/credentials?limit=2')
  await call('POST', '/ims/ob/v3p0/credentials', { payload: { type: ['VerifiableCredential'] } })
  await call('GET', '/ims/ob/v3p0/profile')
  await call('PUT', '/ims/ob/v3p0/profile', { payload: { id: 'urn:uuid:x', type: 'Profile' } })
  // The OAuth 2.0 server's endpoints (oidc-provider answers them on the raw response) and the consent pages.
  await call('GET', '/oauth/authorize')
  await call('POST', '/oauth/authorize', { headers: form, payload: 'client_id=nobody' })
  await call('GET', '/oauth/authorize/no-such-interaction')
  await call('POST', '/oauth/token', { headers: form, payload: 'grant_type=authorization_code&code=nothing' })
  await call('POST', '/oauth/register', { payload: { client_name: 'Tour' } })
  await call('POST', '/oauth/revoke', { headers: form, payload: 'token=nothing' })
  await call('GET', '/oauth/jwks')
  await call('GET', '/.well-known/openid-configuration')
  await call('GET', '/account/connect/no-such-interaction')
  await call('POST', '/account/connect/no-such-interaction', { headers: form, payload: 'decision=allow' })
  await call('GET', '/account/connections')
  await call('POST', '/account/connections/no-such-grant/withdraw', { headers: form, payload: '' })
  // The portal's page of badges from other issuers: signed out, the sign-in form; its post without the CSRF token, the 403 page.
  await call('GET', '/account/portfolio')
  await call('POST', '/account/portfolio/AAAAAAAAAAAA/remove', { headers: form, payload: '' })
  await call('POST', '/account/portfolio/AAAAAAAAAAAA/check', { headers: form, payload: '' })
  // Sending a badge to another platform: signed out, the sign-in form; the post without its CSRF token, the 403 page.
  await call('GET', `/account/badges/${id}/send`)
  await call('POST', `/account/badges/${id}/send`, { headers: form, payload: 'host=https%3A%2F%2Fbackpack.example' })
  await call('GET', '/account/send/callback?state=nothing&code=nothing')
  // Add to wallet: signed out, the sign-in form; the post without its CSRF token, the 403 page; an unknown offer, 404.
  await call('GET', `/account/badges/${id}/wallet`)
  await call('POST', `/account/badges/${id}/wallet`, { headers: form, payload: '' })
  await call('GET', `/wallet/offers/${'A'.repeat(43)}?iuv=1`)
  await call('GET', `/wallet/offers/${'A'.repeat(43)}?iuv=1`, { headers: { accept: 'text/html' } })
  // The W3C VC API exchange (a request, a refused presentation, LCW's credential request refused) and OpenID4VCI.
  const offer = await createWalletOffer({ sql: app.sql, now: new Date(), baseUrl: BASE_URL, actor: 'tour' }, { credentialId: id, holderEmail: 'ana@example.com', channel: 'portal', revoked: false })
  await call('GET', `/wallet/offers/${offer.token}?iuv=1`)
  await call('GET', `/wallet/offers/${offer.token}?iuv=1`, { headers: { accept: 'text/html' } })
  await call('POST', `/wallet/exchanges/${offer.token}`, { headers: { 'content-type': 'application/json' }, payload: '{}' })
  await call('POST', `/wallet/exchanges/${offer.token}`, { headers: { 'content-type': 'application/json' }, payload: '{"verifiablePresentation":{}}' })
  await call('POST', `/wallet/exchanges/${offer.token}/credential-request`, { headers: { 'content-type': 'application/json' }, payload: '{}' })
  await call('POST', `/wallet/exchanges/${'A'.repeat(43)}`, { headers: { 'content-type': 'application/json' }, payload: '{}' })
  await call('GET', `/wallet/oid4vci/offers/${offer.token}`)
  await call('GET', '/.well-known/openid-credential-issuer')
  await call('GET', '/.well-known/oauth-authorization-server/wallet/oid4vci')
  await call('GET', '/wallet/oid4vci/.well-known/oauth-authorization-server')
  await call('GET', '/wallet/oid4vci/.well-known/openid-configuration')
  await call('GET', `/wallet/oid4vci/offers/${'A'.repeat(43)}`)
  await call('POST', '/wallet/oid4vci/token', { headers: form, payload: 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=unknown' })
  await call('POST', '/wallet/oid4vci/nonce')
  await call('POST', '/wallet/oid4vci/credential', { headers: { authorization: 'Bearer unknown', 'content-type': 'application/json' }, payload: '{}' })

  // Staff: achievements, credentials, the audit trail, keys, webhooks, orders.
  await staff('GET', '/achievements')
  await staff('GET', `/achievements/${achievement.id}`)
  await staff('GET', '/achievements/AAAAAAAAAAAA')
  await staff('PUT', `/achievements/${achievement.id}/recertification`, { recertification: { exam: true } })
  await staff('PATCH', `/achievements/${achievement.id}`, { description: 'Certified Medical Assistant (AAMA).' })
  await staff('PATCH', `/achievements/${achievement.id}`, { image: { id: 'https://10.0.0.1/badge.png' } })
  await staff('PATCH', '/achievements/AAAAAAAAAAAA', { name: 'X' })
  const retired = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'Retired' })
  await staff('POST', `/achievements/${retired.id}/archive`)
  await staff('POST', '/credentials', { achievementId: retired.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  await staff('POST', `/achievements/${retired.id}/unarchive`)
  await staff('POST', '/achievements/AAAAAAAAAAAA/archive')
  await staff('POST', '/achievements', { ...CMA_ACHIEVEMENT, name: 'Another' })
  await staff('POST', '/achievements', { name: '' })
  await call('GET', '/api/v1/achievements')
  await staff('POST', '/credentials', { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  await staff('POST', '/credentials', { achievementId: 'AAAAAAAAAAAA', recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  await staff('POST', '/credentials/batch', { items: [{ achievementId: achievement.id, recipient: { name: 'Bo', email: 'bo@example.com' } }, { achievementId: achievement.id }] })
  await staff('GET', '/credentials?limit=5')
  await staff('GET', `/credentials/${id}`)
  await staff('POST', `/credentials/${id}/reissue`, { reason: 'correction', recipient: { name: 'Ana María Ruiz' } })
  await staff('POST', `/credentials/${id}/recertify`, { method: 'exam' })
  await staff('POST', `/credentials/${id}/revoke`, { reason: 'Exam result annulled' })
  await staff('POST', `/credentials/${id}/reissue`, { reason: 'correction', recipient: { name: 'Ana Ruiz' } })
  await staff('GET', '/audit-events?limit=3')
  const key = (await staff('POST', '/api-keys', { name: 'Exam office', scopes: ['credentials:read'] })).json()
  await staff('GET', '/api-keys')
  await call('GET', '/api/v1/api-keys', { headers: { authorization: `Bearer ${key.key as string}` } })
  await staff('POST', `/api-keys/${key.id as string}/revoke`)
  await staff('POST', '/api-keys/AAAAAAAAAAAA/revoke')
  const webhook = (await staff('POST', '/webhooks', { url: 'https://crm.example.org/hooks', events: ['credential.issued'] })).json()
  await staff('GET', '/webhooks')
  await staff('GET', `/webhooks/${webhook.id as string}`)
  await staff('POST', `/webhooks/${webhook.id as string}/disable`)
  await staff('POST', `/webhooks/${webhook.id as string}/enable`)
  await staff('GET', `/webhooks/${webhook.id as string}/deliveries`)
  await staff('POST', `/webhooks/${webhook.id as string}/deliveries/00000000-0000-4000-8000-000000000000/retry`)
  await staff('DELETE', `/webhooks/${webhook.id as string}`)
  await staff('GET', '/webhooks/AAAAAAAAAAAA')
  // Other Open Badges Hosts (the Service Consumer): a Host out of reach, unknown connections, the public callback without a pending state.
  await staff('POST', '/ob-hosts', { discoveryUrl: 'https://10.0.0.1/ims/ob/v3p0/discovery' })
  await staff('POST', '/ob-hosts', { discoveryUrl: 'not a URL' })
  await staff('GET', '/ob-hosts')
  await staff('POST', '/ob-hosts/AAAAAAAAAAAA/push', { credentialId: id })
  await staff('DELETE', '/ob-hosts/AAAAAAAAAAAA')
  await call('GET', '/ob-hosts/callback?state=nothing&code=nothing')
  await staff('GET', '/orders')
  await staff('GET', '/orders/AAAAAAAAAAAA')
  await staff('POST', '/orders/AAAAAAAAAAAA/approve', { achievementId: achievement.id })
  await staff('POST', '/orders/AAAAAAAAAAAA/reject', { reason: 'Not found in our records' })
  const recognised = (await staff('POST', '/registry/issuers', { issuerId: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', name: 'Regional Board' })).json()
  await staff('POST', '/registry/issuers', { issuerId: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', name: 'Again' })
  await staff('POST', '/registry/issuers', { origin: 'https://badges.example.org/path', name: 'Not an origin' })
  await staff('GET', '/registry/issuers?limit=1')
  await staff('GET', `/registry/issuers/${recognised.id as string}`)
  await staff('GET', '/registry/issuers/AAAAAAAAAAAA')
  await staff('DELETE', `/registry/issuers/${recognised.id as string}`)
  await staff('DELETE', `/registry/issuers/${recognised.id as string}`)

  // Continuing education (the first achievement has no CE rules: its record says so).
  const ceAchievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'CE', recertification: { continuingEducation: { minPoints: 1 } } })
  const ceBadge = await issue(app, { achievementId: ceAchievement.id, recipient: { name: 'Bo Lin', email: 'bo@example.com' } })
  const provider = (await staff('POST', `/achievements/${ceAchievement.id}/approved-providers`, { providerId: 'https://www.aama-ntl.org', name: 'AAMA' })).json()
  await staff('POST', `/achievements/${ceAchievement.id}/approved-providers`, { providerId: 'https://www.aama-ntl.org', name: 'AAMA' })
  await staff('GET', `/achievements/${ceAchievement.id}/approved-providers`)
  await staff('GET', '/achievements/AAAAAAAAAAAA/approved-providers')
  const pdf = Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64')
  const today = '2026-03-31' // the app's clock
  const activity = (await staff('POST', `/credentials/${ceBadge.id}/continuing-education/activities`, { title: 'CPR', provider: 'Red Cross', completedOn: today, points: 2, category: 'other', certificate: { data: pdf } })).json()
  await staff('POST', `/credentials/${ceBadge.id}/continuing-education/activities`, { title: 'CPR', provider: 'Red Cross', completedOn: '2026-01-05', points: 2, category: 'approved' })
  await staff('POST', `/credentials/${id}/continuing-education/activities`, { title: 'CPR', provider: 'Red Cross', completedOn: '2026-01-05', points: 2, category: 'other' })
  await staff('GET', `/credentials/${ceBadge.id}/continuing-education`)
  await staff('GET', '/credentials/AAAAAAAAAAAA/continuing-education')
  await staff('GET', `/credentials/${ceBadge.id}/continuing-education/activities/${activity.id as string}/evidence`)
  await call('POST', '/api/v1/continuing-education/activities', { headers: { ...app.auth, 'content-type': 'text/csv' }, payload: `credentialId,title,provider,completedOn,points,category\n${ceBadge.id},Ethics,College,${today},1,other\n` })
  await staff('POST', '/continuing-education/activities', { items: [{ credentialId: ceBadge.id, title: 'Ethics', provider: 'College', completedOn: '2099-02-01', points: 1, category: 'other' }] })
  const { applyForRecertification } = await import('../src/capabilities/continuing-education/applications.js')
  const application = await applyForRecertification({ sql: app.sql, now: new Date('2026-03-31T12:00:00Z'), actor: 'holder', outbox: app.app.outbox, urls: app.app.urls }, ceBadge.id)
  await staff('GET', '/recertification-applications?state=pending')
  await staff('GET', '/recertification-applications?after=AAAAAAAAAAAA')
  await staff('GET', `/recertification-applications/${application.id}`)
  await staff('GET', '/recertification-applications/AAAAAAAAAAAA')
  await staff('DELETE', `/credentials/${ceBadge.id}/continuing-education/activities/${activity.id as string}`)
  await staff('POST', `/recertification-applications/${application.id}/approve`, {})
  await staff('POST', `/recertification-applications/${application.id}/approve`, {})
  await staff('POST', `/recertification-applications/${application.id}/reject`, { reason: 'Too late' })
  await staff('POST', '/recertification-applications/AAAAAAAAAAAA/reject', { reason: 'x' })
  const second = (await staff('POST', `/credentials/${ceBadge.id}/continuing-education/activities`, { title: 'Ethics 2', provider: 'College', completedOn: today, points: 1, category: 'other' })).json()
  await staff('DELETE', `/credentials/${ceBadge.id}/continuing-education/activities/${second.id as string}`)
  await staff('DELETE', `/achievements/${ceAchievement.id}/approved-providers/${provider.id as string}`)
  await staff('DELETE', `/achievements/${ceAchievement.id}/approved-providers/${provider.id as string}`)

  // Usage counts and the employer lookup (issue 25).
  await call('GET', `/credentials/${id}/share/linkedin`)
  await call('GET', '/credentials/AAAAAAAAAAAA/share/linkedin')
  await call('GET', '/lookup')
  await call('POST', '/lookup', { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: `number=${id}&lastName=x` })
  await call('POST', '/lookup', { headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: 'number=&lastName=' })
  await call('POST', '/lookup', { payload: { number: id, lastName: 'x' } })
  await call('POST', '/lookup', { payload: { number: id } })
  await staff('GET', '/usage?days=3')
  await staff('GET', '/usage?from=2026-01-02&to=2026-01-01')

  // The achievement design (issue 25).
  const seal = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="4"/></svg>'
  const designImage = async (method: string, slot: string, type?: string, body?: string): ReturnType<typeof call> =>
    await call(method, `/api/v1/achievements/${achievement.id}/design/images/${slot}`, { headers: { ...app.auth, ...(type !== undefined ? { 'content-type': type } : {}) }, ...(body !== undefined ? { payload: body } : {}) })
  await staff('GET', `/achievements/${achievement.id}/design`)
  await staff('GET', '/achievements/AAAAAAAAAAAA/design')
  await staff('PUT', `/achievements/${achievement.id}/design`, { primaryColor: '#7b2d26', titleLine: 'Certificate of Certification' })
  await staff('PUT', `/achievements/${achievement.id}/design`, { statementAfter: 'has earned {nope}' })
  await designImage('PUT', 'seal', 'image/svg+xml', seal)
  await designImage('PUT', 'logo', 'image/png', seal)
  await designImage('PUT', 'logo', 'image/jpeg', 'x')
  await designImage('GET', 'seal')
  await designImage('GET', 'logo')
  await call('GET', `/achievements/${achievement.id}/design/seal`)
  await call('GET', `/achievements/${achievement.id}/design/logo`)
  await designImage('DELETE', 'seal')
  await designImage('DELETE', 'seal')
  await staff('DELETE', `/achievements/${achievement.id}/design`)
  await staff('DELETE', `/achievements/${achievement.id}/design`)

  // The staff console (issue 25): its sign-in, then its pages with an administrator's session.
  const { consoleCsrf, consoleStaff } = await import('./helpers/console.js')
  const { SoftwareAuthenticator } = await import('./helpers/passkey-authenticator.js')
  const signInPage = await call('GET', '/console/sign-in?next=/console/credentials')
  await call('GET', '/console')
  for (const file of ['console.js', 'console.css', 'webauthn.js']) await call('GET', `/console/assets/${file}`)
  const anonymousCookies = ([] as string[]).concat((signInPage.headers['set-cookie'] as string | string[] | undefined) ?? []).map((c) => c.split(';')[0]).join('; ')
  const anonymousCsrf = consoleCsrf(signInPage.body)
  const json = (body: unknown): { headers: Record<string, string>, payload: string } => ({ headers: { 'content-type': 'application/json', 'x-csrf-token': anonymousCsrf, cookie: anonymousCookies }, payload: JSON.stringify(body) })
  const started = (await call('POST', '/console/passkey/sign-in-options', json({}))).json()
  const stranger = new SoftwareAuthenticator(BASE_URL)
  stranger.register({ challenge: 'x', user: { id: 'nobody' } })
  await call('POST', '/console/passkey/sign-in', json({ challengeId: started.challengeId, response: stranger.authenticate(started.options) }))
  await call('GET', '/console/enrol?token=nosuchtoken')
  await call('POST', '/console/passkey/registration-options', json({ token: 'nosuchtoken' }))
  await call('POST', '/console/passkey/register', json({ token: 'nosuchtoken', challengeId: 'x', response: { id: 'x', rawId: 'x', type: 'public-key', response: {} } }))
  await call('POST', '/console/sso/start', { headers: { ...form, cookie: anonymousCookies }, payload: new URLSearchParams({ _csrf: anonymousCsrf, next: '/console' }).toString() })
  await call('GET', '/console/sso/callback?code=x&state=y')
  const consoleAdmin = await consoleStaff(app, 'admin')
  const signedIn = consoleAdmin.jar.header()
  const adminToken = consoleCsrf((await call('GET', '/console', { headers: signedIn })).body)
  const adminForm = async (url: string, fields: Record<string, string> = {}): ReturnType<typeof call> => await call('POST', url, { headers: { ...signedIn, ...form }, payload: new URLSearchParams({ _csrf: adminToken, ...fields }).toString() })
  await call('GET', `/console?achievementId=${achievement.id}`, { headers: signedIn })
  await call('GET', '/console/credentials?q=ana&state=valid', { headers: signedIn })
  await call('GET', '/console/credentials?state=bogus', { headers: signedIn })
  await call('GET', `/console/credentials/${id}`, { headers: signedIn })
  await call('GET', '/console/credentials/AAAAAAAAAAAA', { headers: signedIn })
  await adminForm(`/console/credentials/${id}/correct`, { name: 'Ana M. Ruiz', email: 'ana@example.com' })
  await adminForm(`/console/credentials/${id}/correct`, { name: 'Ana M. Ruiz', email: 'ana@example.com', confirmed: 'yes' })
  await adminForm(`/console/credentials/${id}/correct`, { name: 'Ana M. Ruiz', email: 'ana@example.com' })
  await adminForm(`/console/credentials/${id}/recertify`)
  await adminForm(`/console/credentials/${id}/resend-email`)
  await adminForm(`/console/credentials/${id}/resend-email`, { confirmed: 'yes' })
  await adminForm(`/console/credentials/${id}/revoke`, { reason: 'Tour' })
  await call('POST', `/console/credentials/${id}/revoke`, { headers: { ...signedIn, ...form }, payload: 'reason=Tour&confirmed=yes' })
  await adminForm(`/console/credentials/${id}/recertify`, { confirmed: 'yes' })

  // The console's administration pages.
  await call('GET', '/console/admin', { headers: signedIn })
  await call('GET', '/console/admin/staff', { headers: signedIn })
  await adminForm('/console/admin/staff', { name: 'Rita Registrar', email: 'rita@example.com', role: 'registrar' })
  await adminForm('/console/admin/staff', { name: 'Rita Registrar', email: 'rita@example.com', role: 'nobody' })
  const rita = (await app.sql<Array<{ id: string }>>`select id from staff_users where email = 'rita@example.com'`)[0]!.id
  await call('GET', `/console/admin/staff/${rita}/role?role=viewer`, { headers: signedIn })
  await adminForm(`/console/admin/staff/${rita}/role`, { role: 'viewer' })
  await adminForm(`/console/admin/staff/${consoleAdmin.user.id}/role`, { role: 'viewer' })
  await call('GET', `/console/admin/staff/${rita}/enrolment`, { headers: signedIn })
  await adminForm(`/console/admin/staff/${rita}/enrolment`)
  await call('GET', `/console/admin/staff/${rita}/disable`, { headers: signedIn })
  await call('POST', `/console/admin/staff/${rita}/disable`, { headers: { ...signedIn, ...form }, payload: '' })
  await adminForm(`/console/admin/staff/${rita}/disable`)
  await call('GET', '/console/admin/staff/AAAAAAAAAAAA/disable', { headers: signedIn })
  await call('GET', '/console/admin/keys', { headers: signedIn })
  await call('GET', '/console/admin/keys/new', { headers: signedIn })
  await adminForm('/console/admin/keys', { name: 'Tour key', scopes: 'audit:read', expiresOn: '' })
  const tourKey = (await app.sql<Array<{ id: string }>>`select id from api_keys where name = 'Tour key'`)[0]!.id
  await call('GET', `/console/admin/keys/${tourKey}/revoke`, { headers: signedIn })
  await adminForm(`/console/admin/keys/${tourKey}/revoke`)
  await call('GET', '/console/admin/webhooks', { headers: signedIn })
  await call('GET', '/console/admin/webhooks/new', { headers: signedIn })
  await adminForm('/console/admin/webhooks', { url: 'https://crm.example.org/console-hooks', events: 'credential.issued', description: '' })
  const tourHook = (await app.sql<Array<{ id: string }>>`select id from webhooks where url = 'https://crm.example.org/console-hooks'`)[0]!.id
  await call('GET', `/console/admin/webhooks/${tourHook}`, { headers: signedIn })
  await call('GET', `/console/admin/webhooks/${tourHook}/test`, { headers: signedIn })
  await adminForm(`/console/admin/webhooks/${tourHook}/test`)
  const tourDelivery = (await app.sql<Array<{ id: string }>>`select id::text from webhook_deliveries where webhook_id = ${tourHook}`)[0]!.id
  await call('GET', `/console/admin/webhooks/${tourHook}/deliveries/${tourDelivery}/retry`, { headers: signedIn })
  await adminForm(`/console/admin/webhooks/${tourHook}/deliveries/00000000-0000-4000-8000-000000000000/retry`)
  await call('GET', `/console/admin/webhooks/${tourHook}/disable`, { headers: signedIn })
  await adminForm(`/console/admin/webhooks/${tourHook}/disable`)
  await call('GET', `/console/admin/webhooks/${tourHook}/enable`, { headers: signedIn })
  await adminForm(`/console/admin/webhooks/${tourHook}/enable`)
  await call('GET', '/console/admin/registry', { headers: signedIn })
  await adminForm('/console/admin/registry', { kind: 'origin', matcher: 'https://badges.example.org', name: 'Example CE', note: '' })
  const tourEntry = (await app.sql<Array<{ id: string }>>`select id from recognised_issuers where name = 'Example CE'`)[0]!.id
  await call('GET', `/console/admin/registry/${tourEntry}/remove`, { headers: signedIn })
  await adminForm(`/console/admin/registry/${tourEntry}/remove`)
  await adminForm('/console/sign-out')

  // The console's achievements and design pages. Signed out: a page is a 303 to sign-in, a post a 401 page.
  const consoleAchievement = `/console/achievements/${achievement.id}`
  const designPage = `${consoleAchievement}/design`
  await call('GET', '/console/achievements')
  await call('POST', `${consoleAchievement}/archive`, { headers: form, payload: 'confirmed=yes' })
  await call('POST', `${designPage}/images/logo`, multipart(''))
  // Signed in as a registrar (enrolled with a software passkey; its jar holds the session); forms carry the page's CSRF token.
  const registrar = await consoleStaff(app, 'registrar')
  const tour = { name: 'Tour', description: 'A tour.', narrative: 'Toured.', validityMonths: '12', ceMinPoints: '10', exam: 'yes' }
  await registrar.page('/console/achievements')
  await registrar.submit('/console/achievements', '/console/achievements', { ...tour, step: 'preview' })
  await registrar.submit('/console/achievements', '/console/achievements', { ...tour, validityMonths: 'x' })
  await registrar.submit('/console/achievements', '/console/achievements', tour)
  await registrar.submit('/console/achievements', '/console/achievements', { ...tour, confirmed: 'yes' })
  await registrar.page(consoleAchievement)
  await registrar.page('/console/achievements/AAAAAAAAAAAA')
  await registrar.submit(consoleAchievement, consoleAchievement, { ...tour, step: 'preview' })
  await registrar.submit(consoleAchievement, consoleAchievement, { ...tour, confirmed: 'yes' })
  await registrar.submit(consoleAchievement, '/console/achievements/AAAAAAAAAAAA', tour)
  await registrar.submit(consoleAchievement, `${consoleAchievement}/archive`, {})
  await registrar.submit(consoleAchievement, `${consoleAchievement}/archive`, { confirmed: 'yes' })
  await registrar.submit(consoleAchievement, `${consoleAchievement}/unarchive`, { confirmed: 'yes' })
  await registrar.submit(consoleAchievement, '/console/achievements/AAAAAAAAAAAA/unarchive', {})
  await registrar.page(designPage)
  await registrar.page(`${designPage}/preview/certificate.pdf`)
  await registrar.page(`${designPage}/preview-image.png`)
  await registrar.page('/console/achievements/AAAAAAAAAAAA/design/preview-image.png')
  await registrar.submit(designPage, `${designPage}/preview/wallet-card.pdf`, { titleLine: 'Tour of {achievementName}' })
  await registrar.submit(designPage, designPage, { titleLine: '{nope}' })
  await registrar.submit(designPage, designPage, { titleLine: 'Tour' })
  await registrar.submit(designPage, designPage, { titleLine: 'Tour', confirmed: 'yes' })
  await registrar.submit(designPage, `${designPage}/images/logo/remove`, { confirmed: 'yes' })
  await registrar.submit(designPage, `${designPage}/images/logo/remove`, {})
  const designCsrf = consoleCsrf((await registrar.page(designPage)).body)
  const badImage = [`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${designCsrf}`, `--${boundary}\r\nContent-Disposition: form-data; name="confirmed"\r\n\r\nyes`, `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="logo.png"\r\nContent-Type: image/png\r\n\r\nnot a PNG`, `--${boundary}--\r\n`].join('\r\n')
  await call('POST', `${designPage}/images/logo`, { headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...registrar.jar.header() }, payload: badImage })
  await registrar.submit(designPage, `${designPage}/reset`, {})
  await registrar.submit(designPage, `${designPage}/reset`, { confirmed: 'yes' })

  // Staff console: queues and CSV upload (a registrar's session cookie and the CSRF token of a console page).
  const { submitBadgeOrder, submitCorrectionRequest } = await import('../src/capabilities/holders/orders.js')
  const clerk = await consoleStaff(app, 'registrar')
  const viewer = await consoleStaff(app, 'viewer')
  const html = (who: typeof clerk): { headers: Record<string, string> } => ({ headers: { ...who.jar.header(), accept: 'text/html' } })
  const consoleForm = async (who: typeof clerk, fields: Record<string, string>): Promise<{ headers: Record<string, string>, payload: string }> => ({ headers: { ...who.jar.header(), ...form }, payload: new URLSearchParams({ _csrf: consoleCsrf((await who.page('/console')).body), ...fields }).toString() })
  const consoleMultipart = async (who: typeof clerk, fields: Record<string, string>): Promise<{ headers: Record<string, string>, payload: string }> => {
    const parts = Object.entries({ _csrf: consoleCsrf((await who.page('/console')).body), ...fields }).map(([name, value]) => `--tour\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    return { headers: { ...who.jar.header(), 'content-type': 'multipart/form-data; boundary=tour' }, payload: `${parts.join('')}--tour--\r\n` }
  }
  const pendingOrder = await submitBadgeOrder(app.sql, new Date('2026-03-31T12:00:00Z'), { name: 'Cy Park', email: 'cy@example.com', certificateNumber: 'CMA-7', certifiedOn: '2025-01-15' })
  const orderToReject = await submitBadgeOrder(app.sql, new Date('2026-03-31T12:00:00Z'), { name: 'Di Park', email: 'di@example.com', certificateNumber: 'CMA-8', certifiedOn: '2025-01-15' })
  const correctionRequest = await submitCorrectionRequest(app.sql, new Date('2026-03-31T12:00:00Z'), { credential: { id: ceBadge.id, recipientName: 'Bo Lin', recipientEmail: 'bo@example.com' }, field: 'name', value: 'Bo Y. Lin' }) as { id: string }
  await call('GET', '/console/queues/orders?done=approved&item=AAAAAAAAAAAA', html(clerk))
  await call('GET', '/console/queues/orders', html(viewer))
  await call('GET', `/console/queues/orders/${pendingOrder}/approve`, html(clerk))
  await call('GET', `/console/queues/orders/${pendingOrder}/approve?confirm=yes&achievementId=${achievement.id}&validFrom=2025-01-15&validUntil=2024-01-01&recipientName=Cy`, html(clerk))
  await call('GET', '/console/queues/orders/AAAAAAAAAAAA/approve', html(clerk))
  await call('POST', `/console/queues/orders/${pendingOrder}/approve`, await consoleForm(clerk, { achievementId: achievement.id, validFrom: '2025-01-15', recipientName: 'Cy Park', notify: 'yes' }))
  await call('POST', `/console/queues/orders/${pendingOrder}/approve`, await consoleForm(clerk, { achievementId: achievement.id, validFrom: '2025-01-15', recipientName: 'Cy Park' }))
  await call('POST', `/console/queues/orders/${pendingOrder}/approve`, await consoleForm(clerk, { validFrom: 'soon' }))
  await call('GET', `/console/queues/orders/${orderToReject}/reject`, html(clerk))
  await call('POST', `/console/queues/orders/${orderToReject}/reject`, await consoleForm(clerk, { reason: 'Not in our records' }))
  await call('POST', `/console/queues/orders/${orderToReject}/reject`, await consoleForm(viewer, { reason: 'x' }))
  await call('GET', `/console/queues/orders/${orderToReject}/reject`, html(clerk))
  await call('GET', '/console/queues/corrections', html(clerk))
  await call('GET', `/console/queues/corrections/${correctionRequest.id}/approve`, html(clerk))
  await call('GET', `/console/queues/corrections/${correctionRequest.id}/reject`, html(clerk))
  await call('POST', `/console/queues/corrections/${correctionRequest.id}/approve`, await consoleForm(clerk, { notify: 'yes' }))
  await call('POST', `/console/queues/corrections/${correctionRequest.id}/reject`, await consoleForm(clerk, { reason: 'Too late' }))
  await call('POST', '/console/queues/corrections/AAAAAAAAAAAA/reject', await consoleForm(clerk, { reason: 'x' }))
  await call('GET', '/console/queues/applications', html(clerk))
  await call('GET', `/console/queues/applications/${application.id}/approve`, html(clerk))
  await call('GET', '/console/queues/applications/AAAAAAAAAAAA/reject', html(clerk))
  await call('GET', `/console/queues/applications/${application.id}/activities/${activity.id as string}/evidence`, html(clerk))
  await call('POST', `/console/queues/applications/${application.id}/approve`, await consoleForm(clerk, {}))
  await call('POST', `/console/queues/applications/${application.id}/reject`, await consoleForm(clerk, { reason: 'Too late' }))
  await call('GET', '/console/upload', html(clerk))
  await call('POST', '/console/upload/preview', await consoleMultipart(clerk, { achievementId: achievement.id, csv: 'name,email\nEd Wu,ed@example.com\nBad,not-an-email\n' }))
  await call('POST', '/console/upload/preview', await consoleForm(clerk, { achievementId: '', csv: 'name,email\nEd Wu,ed@example.com\n' }))
  await call('POST', '/console/upload/issue', await consoleMultipart(clerk, { csv: `achievementId,name,email\n${achievement.id},Ed Wu,ed@example.com\n`, notify: 'yes' }))
  await call('POST', '/console/upload/issue', await consoleMultipart(viewer, { csv: 'x' }))

  const routes = new Map(app.app.routeTable.map((route) => [`${methodsOf(route)[0] ?? ''} ${route.url}`, route]))
  for (const answer of answered) {
    const name = `${answer.method} ${answer.route} ${answer.status} ${answer.type === '' ? '(no body)' : answer.type}`
    const route = routes.get(`${answer.method} ${answer.route}`)
    if (route === undefined || schemaOf(route).hide === true) continue
    const declared = schemaOf(route).response ?? {}
    const entry = declared[answer.status] ?? declared[`${String(answer.status)[0]}xx`]
    if (entry === undefined) {
      t.fail(`${name}: the status is not declared`)
      continue
    }
    const ok = entry.content !== undefined ? answer.type in entry.content : entry.type === 'null' ? answer.type === '' : /json/.test(answer.type)
    t.ok(ok, `${name}: declared`)
  }
  const visited = new Set(answered.map((a) => `${a.method} ${a.route}`))
  const missed = ourRoutes(app.app.routeTable).filter((route) => schemaOf(route).hide !== true).flatMap((route) => methodsOf(route).map((m) => `${m} ${route.url}`)).filter((name) => !visited.has(name))
  t.same(missed, [], 'the tour visits every route (add a new route to it)')
  const statuses = new Set(answered.map((a) => a.status))
  for (const status of [200, 201, 204, 207, 303, 304, 400, 401, 403, 404, 406, 409, 422]) t.ok(statuses.has(status), `the tour met a ${status}`)
})

t.test('docs/errors.md lists every code of the error catalogue with its status', async (t) => {
  const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  for (const [code, entry] of Object.entries(PROBLEMS)) {
    t.match(page, new RegExp(`\\| \`${code}\` \\| ${entry.status} \\| ${entry.title.replace(/[()]/g, '\\$&')} \\|`), code)
  }
})
