import t, { type Test } from 'tap'
import { BASE_URL, build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

/**
 * Errors in the representation the client asked for: a person in a browser
 * gets an HTML page with the status, the problem in words and a way back; an
 * API client (JSON, problem+json, an accept-anything range alone as curl
 * sends, or no Accept) keeps application/problem+json. A path that exists
 * under other methods answers 405 with Allow; the root is a home page.
 */

/** What Chrome sends for a page it navigates to. */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
const API_CLIENTS: Array<[string, Record<string, string>]> = [
  ['application/json', { accept: 'application/json' }],
  ['application/problem+json', { accept: 'application/problem+json' }],
  ['*/* (curl)', { accept: '*/*' }],
  ['no Accept', {}]
]
const PROBLEM = /^application\/problem\+json/
const HTML = /^text\/html; charset=utf-8/

type Injected = Awaited<ReturnType<TestApp['app']['inject']>>

/** An error page as a person sees it: the status, the problem's words, the site's layout and the way back. */
function assertErrorPage (t: Test, response: Injected, status: number, words: RegExp, label: string): void {
  t.equal(response.statusCode, status, `${label}: status ${status}`)
  t.match(response.headers['content-type'], HTML, `${label}: an HTML page`)
  t.match(response.body, /^<!doctype html>/, `${label}: a whole page`)
  t.match(response.body, `Error ${status}`, `${label}: says the status`)
  t.match(response.body, words, `${label}: says what went wrong`)
  t.match(response.body, 'American Association of Medical Assistants', `${label}: in the site's layout`)
  t.match(response.body, '<a href="/verify">Verify a credential</a>', `${label}: a way to the verify page`)
  t.match(response.body, '<a href="/account">My badges</a>', `${label}: a way to My badges`)
  t.notMatch(response.body, '"type":"urn:tessera:problem', `${label}: no raw JSON`)
  t.match(response.headers.vary, /Accept/, `${label}: Vary: Accept`)
  t.match(response.headers['content-security-policy'], /default-src 'none'/, `${label}: the site's CSP`)
}

function assertProblem (t: Test, response: Injected, status: number, code: string, label: string): void {
  t.equal(response.statusCode, status, `${label}: status ${status}`)
  t.match(response.headers['content-type'], PROBLEM, `${label}: problem+json`)
  t.match(response.json(), { type: `urn:tessera:problem:${code}`, status }, `${label}: ${code}`)
  t.match(response.headers.vary, /Accept/, `${label}: Vary: Accept`)
}

t.test('a mistyped credential link, an unknown path and an unknown credential: an HTML 404 for a browser, problem+json for API clients', async (t) => {
  const app = await build(t)
  for (const url of ['/credentials/does-not-exist', '/no/such/page', '/credentials/AAAAAAAAAAAA/versions/1']) {
    assertErrorPage(t, await app.app.inject({ method: 'GET', url, headers: { accept: BROWSER } }), 404, /Not found/, `browser ${url}`)
    // A credential URL asked for only as problem+json has no representation to offer: that is its 406, before any lookup.
    const clients = url.startsWith('/credentials/') ? API_CLIENTS.filter(([label]) => label !== 'application/problem+json') : API_CLIENTS
    for (const [label, headers] of clients) assertProblem(t, await app.app.inject({ method: 'GET', url, headers }), 404, 'not_found', `${label} ${url}`)
  }
  const unknown = await app.app.inject({ method: 'GET', url: '/credentials/does-not-exist', headers: { accept: BROWSER } })
  t.match(unknown.body, 'check that the whole link was copied', 'advice a person can act on')
  const hostile = await app.app.inject({ method: 'GET', url: '/<b>bold</b>', headers: { accept: BROWSER } })
  t.equal(hostile.statusCode, 404)
  t.notMatch(hostile.body, '<b>bold</b>', 'the path is escaped on the page')
  // A browser that prefers JSON is an API client; one that ranks HTML first is a person.
  t.match((await app.app.inject({ method: 'GET', url: '/nothing', headers: { accept: 'text/html;q=0.5, application/json' } })).headers['content-type'], PROBLEM)
  t.match((await app.app.inject({ method: 'GET', url: '/nothing', headers: { accept: 'text/html' } })).headers['content-type'], HTML)
})

t.test('406: a document with no HTML form asked for as text/html gets a page; an API client asking for an unknown type keeps problem+json', async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app)
  const url = `/achievements/${achievement.id}`
  t.equal((await app.app.inject({ method: 'GET', url, headers: { accept: BROWSER } })).statusCode, 200, 'a browser that accepts anything still gets the JSON-LD')
  assertErrorPage(t, await app.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } }), 406, /No acceptable representation/, `text/html ${url}`)
  assertProblem(t, await app.app.inject({ method: 'GET', url, headers: { accept: 'image/gif' } }), 406, 'not_acceptable', `image/gif ${url}`)
})

t.test('429 from the rate limiter: a page with Retry-After for a browser, problem+json for API clients', async (t) => {
  const app = await build(t, { env: { RATE_LIMIT_LOOKUP_PER_MINUTE: '2' } })
  const url = '/credentials/does-not-exist'
  for (let i = 0; i < 2; i++) t.equal((await app.app.inject({ method: 'GET', url, headers: { accept: BROWSER } })).statusCode, 404)
  const page = await app.app.inject({ method: 'GET', url, headers: { accept: BROWSER } })
  assertErrorPage(t, page, 429, /Too many requests: at most 2 per 1 minute/, 'browser')
  t.match(page.body, 'Wait a moment, then try again')
  t.ok(Number(page.headers['retry-after']) > 0, 'browser: Retry-After')
  for (const [label, headers] of API_CLIENTS) {
    const problem = await app.app.inject({ method: 'GET', url, headers })
    assertProblem(t, problem, 429, 'too_many_requests', label)
    t.ok(Number(problem.headers['retry-after']) > 0, `${label}: Retry-After`)
  }
})

t.test('410 and 500, as a plugin or a fault raises them: the same status both ways, and a 5xx page says nothing of the cause', async (t) => {
  const app = await build(t)
  // Nothing in the service answers 410 today; a plugin's http-errors-style error is what would reach the handler.
  app.app.get('/test-only/gone', async () => { throw Object.assign(new Error('That page was removed.'), { statusCode: 410 }) })
  app.app.get('/test-only/fault', async () => { throw new Error('secret stack detail') })
  assertErrorPage(t, await app.app.inject({ method: 'GET', url: '/test-only/gone', headers: { accept: BROWSER } }), 410, /That page was removed\./, 'browser 410')
  for (const [label, headers] of API_CLIENTS) assertProblem(t, await app.app.inject({ method: 'GET', url: '/test-only/gone', headers }), 410, 'client_error', `${label} 410`)
  const fault = await app.app.inject({ method: 'GET', url: '/test-only/fault', headers: { accept: BROWSER } })
  assertErrorPage(t, fault, 500, /Something went wrong on our side/, 'browser 500')
  t.notMatch(fault.body, 'secret stack detail', 'the cause stays in the log')
  for (const [label, headers] of API_CLIENTS) assertProblem(t, await app.app.inject({ method: 'GET', url: '/test-only/fault', headers }), 500, 'internal_error', `${label} 500`)
})

t.test('a path that exists under other methods answers 405 with Allow; an unknown path stays 404; preflights and HEAD still work', async (t) => {
  const app = await build(t)
  const issued = await issue(app, { achievementId: (await createAchievement(app)).id, recipient: { name: 'H', email: 'h@example.com' } })
  const credential = new URL(issued.url).pathname
  const cases: Array<[string, string, string, Record<string, string>]> = [
    ['DELETE', '/api/v1/achievements', 'GET, HEAD, POST', app.auth],
    ['DELETE', '/api/v1/achievements', 'GET, HEAD, POST', {}],
    ['PUT', '/verify', 'GET, HEAD, POST', {}],
    ['DELETE', credential, 'GET, HEAD', {}],
    ['GET', '/account/sign-out?x=1', 'POST', {}],
    ['HEAD', '/account/sign-out', 'POST', {}]
  ]
  for (const [method, url, allow, headers] of cases) {
    const response = await app.app.inject({ method: method as 'GET', url, headers })
    t.equal(response.statusCode, 405, `${method} ${url}: 405`)
    t.equal(response.headers.allow, allow, `${method} ${url}: Allow`)
    if (method === 'HEAD') continue
    assertProblem(t, response, 405, 'method_not_allowed', `${method} ${url}`)
    t.match(response.json().detail, `answers ${allow}`)
  }
  const page = await app.app.inject({ method: 'PUT', url: '/verify', headers: { accept: BROWSER } })
  assertErrorPage(t, page, 405, /Method not allowed/, 'browser PUT /verify')
  t.equal(page.headers.allow, 'GET, HEAD, POST')
  t.match(page.body, 'This address answers GET, HEAD, POST.')

  for (const [method, url] of [['DELETE', '/no/such/route'], ['POST', '/credentials/x/y/z/w'], ['GET', '/api/v1/nothing-here']] as const) {
    const response = await app.app.inject({ method, url, headers: app.auth })
    assertProblem(t, response, 404, 'not_found', `${method} ${url}`)
    t.equal(response.headers.allow, undefined, `${method} ${url}: no Allow`)
  }
  const preflight = await app.app.inject({ method: 'OPTIONS', url: '/credentials/verify', headers: { origin: 'https://employer.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.statusCode, 204, 'a CORS preflight on a public route is still answered')
  const staffPreflight = await app.app.inject({ method: 'OPTIONS', url: '/api/v1/achievements', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(staffPreflight.statusCode, 404, 'a preflight the staff API declines stays a 404, not a 405')
  t.equal(staffPreflight.headers['access-control-allow-origin'], undefined)
  t.equal((await app.app.inject({ method: 'HEAD', url: '/verify' })).statusCode, 200, 'HEAD of a page still works')
})

t.test('the root is a home page for a browser and the service\'s links for an API client', async (t) => {
  const app = await build(t)
  const page = await app.app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER } })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], HTML)
  t.match(page.body, '<h1>American Association of Medical Assistants</h1>')
  t.match(page.body, '<a href="/verify">Verify a credential</a>')
  t.match(page.body, '<a href="/account">My badges</a>')
  t.match(page.body, '<a href="/docs">/docs</a>')
  for (const [label, headers] of API_CLIENTS.filter(([label]) => label !== 'application/problem+json')) {
    const response = await app.app.inject({ method: 'GET', url: '/', headers })
    t.equal(response.statusCode, 200, label)
    t.match(response.headers['content-type'], /^application\/json/, label)
    t.same(response.json().links, { verify: `${BASE_URL}/verify`, account: `${BASE_URL}/account`, openapi: `${BASE_URL}/openapi.json`, docs: `${BASE_URL}/docs` }, `${label}: the links`)
    t.equal(response.json().issuer.name, 'American Association of Medical Assistants')
    t.equal((await app.app.inject({ method: 'GET', url: response.json().issuer.id.slice(BASE_URL.length) })).statusCode, 200, `${label}: the issuer link resolves`)
  }
  assertProblem(t, await app.app.inject({ method: 'GET', url: '/', headers: { accept: 'image/gif' } }), 406, 'not_acceptable', 'image/gif /')
  t.equal((await app.app.inject({ method: 'DELETE', url: '/' })).headers.allow, 'GET, HEAD', 'the root answers GET and HEAD')
})
