import t, { type Test } from 'tap'
import { OB_SCOPE, OB_SCOPE_WORDS } from '../../src/capabilities/open-badges-api/scopes.js'
import { pageLinks } from '../../src/channels/open-badges-api/resource-routes.js'
import { BASE_URL, build } from '../helpers/build-app.js'

/**
 * The Open Badges 3.0 API's resources as a platform meets them before it has
 * a token: the Service Description Document without authentication, and
 * every other call refused as Imsx_StatusInfo with WWW-Authenticate: Bearer.
 */

const app = await build(t)
const API = '/ims/ob/v3p0'

t.test('discovery is the spec\'s OpenAPI document, profiled with this service\'s URLs and OAuth endpoints, without authentication', async (t) => {
  const response = await app.app.inject({ method: 'GET', url: `${API}/discovery` })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const doc = response.json()
  t.equal(doc.openapi, '3.0.1')
  t.same(doc.servers.map((s: { url: string }) => s.url), [`${BASE_URL}/ims/ob/v3p0`])
  t.equal(doc.info.termsOfService, 'https://www.aama-ntl.org', 'no terms page of its own: the issuer\'s site')
  t.equal(doc.info['x-imssf-privacyPolicyUrl'], 'https://www.aama-ntl.org')
  const scheme = doc.components.securitySchemes.OAuth2ACG
  t.equal(scheme.type, 'oauth2')
  t.equal(scheme['x-imssf-registrationUrl'], `${BASE_URL}/oauth/register`)
  t.same(scheme.flows.authorizationCode, {
    authorizationUrl: `${BASE_URL}/oauth/authorize`,
    tokenUrl: `${BASE_URL}/oauth/token`,
    refreshUrl: `${BASE_URL}/oauth/token`,
    scopes: OB_SCOPE_WORDS
  })
  t.same(Object.keys(scheme.flows.authorizationCode.scopes).sort(), Object.values(OB_SCOPE).sort(), 'the four OB scopes')
  t.ok(doc.paths['/credentials'].get && doc.paths['/profile'].put, 'the spec\'s operations')
})

const imsxFailure = (t: Test, body: any, minor: string): void => {
  t.equal(body.imsx_codeMajor, 'failure')
  t.equal(body.imsx_severity, 'error')
  t.equal(body.imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldName, 'TargetEndSystem')
  t.equal(body.imsx_codeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue, minor)
  t.type(body.imsx_description, 'string')
}

t.test('without a token, or with one the authorization server does not know, every resource is a 401 Imsx_StatusInfo with WWW-Authenticate: Bearer', async (t) => {
  const calls = [
    { method: 'GET' as const, url: `${API}/credentials` },
    { method: 'GET' as const, url: `${API}/credentials?limit=0&offset=-1&since=yesterday` },
    { method: 'POST' as const, url: `${API}/credentials`, payload: { not: 'a credential' } },
    { method: 'GET' as const, url: `${API}/profile` },
    { method: 'PUT' as const, url: `${API}/profile`, payload: { id: 'x', type: 'Profile' } }
  ]
  for (const call of calls) {
    for (const authorization of [undefined, 'Bearer not-a-real-token', 'Basic dXNlcjpwYXNz']) {
      const response = await app.app.inject({ ...call, headers: authorization === undefined ? {} : { authorization } })
      const name = `${call.method} ${call.url} with ${authorization ?? 'no Authorization'}`
      t.equal(response.statusCode, 401, name)
      t.match(response.headers['content-type'], /^application\/json/, `${name}: JSON, not problem+json`)
      t.match(response.headers['www-authenticate'], /^Bearer /, `${name}: WWW-Authenticate`)
      imsxFailure(t, response.json(), 'unauthorizedrequest')
    }
  }
  const unknown = await app.app.inject({ method: 'GET', url: `${API}/profile`, headers: { authorization: 'Bearer not-a-real-token' } })
  t.match(unknown.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('an unknown path is a 404 and a wrong method a 405 with Allow, both Imsx_StatusInfo', async (t) => {
  const missing = await app.app.inject({ method: 'GET', url: `${API}/badges` })
  t.equal(missing.statusCode, 404)
  imsxFailure(t, missing.json(), 'not_found')
  const wrong = await app.app.inject({ method: 'DELETE', url: `${API}/credentials` })
  t.equal(wrong.statusCode, 405)
  t.equal(wrong.headers.allow, 'GET, HEAD, POST')
  imsxFailure(t, wrong.json(), 'not_allowed')
})

t.test('the paging links: first and last always, next and prev only where there is such a page', async (t) => {
  const url = `${BASE_URL}/ims/ob/v3p0/credentials`
  const rels = (link: string): Record<string, string> => Object.fromEntries(link.split(', ').map((part) => {
    const [, target, rel] = /^<([^>]+)>; rel="([a-z]+)"$/.exec(part) ?? []
    return [rel ?? '', new URL(target ?? '').search]
  }))
  t.same(rels(pageLinks(url, { limit: 2, offset: 0, total: 5 })), { first: '?limit=2&offset=0', last: '?limit=2&offset=4', next: '?limit=2&offset=2' })
  t.same(rels(pageLinks(url, { limit: 2, offset: 2, total: 5 })), { first: '?limit=2&offset=0', last: '?limit=2&offset=4', next: '?limit=2&offset=4', prev: '?limit=2&offset=0' })
  t.same(rels(pageLinks(url, { limit: 2, offset: 4, total: 5 })), { first: '?limit=2&offset=0', last: '?limit=2&offset=4', prev: '?limit=2&offset=2' })
  t.same(rels(pageLinks(url, { limit: 10, offset: 0, total: 0 })), { first: '?limit=10&offset=0', last: '?limit=10&offset=0' })
  t.same(rels(pageLinks(url, { limit: 2, offset: 9, total: 5, since: '2026-01-01T00:00:00Z' })).prev, '?limit=2&offset=4&since=2026-01-01T00%3A00%3A00Z', 'past the end: prev is the last page')
})

t.test('the service\'s own OpenAPI document and /docs describe the OB routes with their OAuth scheme and scope', async (t) => {
  const doc = (await app.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  const scheme = doc.components.securitySchemes.OAuth2ACG
  t.equal(scheme.type, 'oauth2')
  t.equal(scheme.flows.authorizationCode.authorizationUrl, `${BASE_URL}/oauth/authorize`)
  t.equal(scheme.flows.authorizationCode.tokenUrl, `${BASE_URL}/oauth/token`)
  t.same(scheme.flows.authorizationCode.scopes, OB_SCOPE_WORDS)
  t.same(doc.paths['/ims/ob/v3p0/credentials'].get.security, [{ OAuth2ACG: [OB_SCOPE.credentialReadonly] }])
  t.same(doc.paths['/ims/ob/v3p0/credentials'].post.security, [{ OAuth2ACG: [OB_SCOPE.credentialUpsert] }])
  t.same(doc.paths['/ims/ob/v3p0/profile'].get.security, [{ OAuth2ACG: [OB_SCOPE.profileReadonly] }])
  t.same(doc.paths['/ims/ob/v3p0/profile'].put.security, [{ OAuth2ACG: [OB_SCOPE.profileUpdate] }])
  t.equal(doc.paths['/ims/ob/v3p0/discovery'].get.security, undefined, 'discovery is public')
  t.ok(doc.paths['/oauth/token'] !== undefined && doc.paths['/oauth/register'] !== undefined, 'and the OAuth server\'s endpoints')
})
