/**
 * `npm run ob-client -- --host http://localhost:3000 [--port 8123] [--scope credential.readonly,profile.readonly] [--json]`:
 * a tiny Open Badges 3.0 API client (a "Service Consumer"), to try the Host by hand and to show the
 * whole flow in a page of code. It reads the Service Description Document, registers itself
 * (RFC 7591), opens a callback on a loopback port, prints the authorization URL for the holder's
 * browser, exchanges the code with PKCE S256 for tokens (openid-client), then reads the holder's
 * profile and badges and prints them. With --json it prints one JSON line per step (the tests read them).
 * A development tool: it runs on tsx.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import * as client from 'openid-client'

const SCOPE_BASE = 'https://purl.imsglobal.org/spec/ob/v3p0/scope/'
const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: 'http://localhost:3000' },
    port: { type: 'string', default: '0' },
    scope: { type: 'string', default: 'credential.readonly,profile.readonly' },
    json: { type: 'boolean', default: false }
  }
})
const host = args.host.replace(/\/$/, '')
const say = (step: string, data: Record<string, unknown>, text: string): void => {
  process.stdout.write(args.json ? `${JSON.stringify({ step, ...data })}\n` : `${text}\n`)
}

interface Discovery { components: { securitySchemes: { OAuth2ACG: { 'x-imssf-registrationUrl': string, flows: { authorizationCode: { authorizationUrl: string, tokenUrl: string } } } } } }

// 1. Discovery: the OB document names the OAuth endpoints.
const discoveryResponse = await fetch(`${host}/ims/ob/v3p0/discovery`)
if (!discoveryResponse.ok) throw new Error(`${host}/ims/ob/v3p0/discovery answered ${discoveryResponse.status}`)
const acg = (await discoveryResponse.json() as Discovery).components.securitySchemes.OAuth2ACG

// 2. The callback on a loopback port (RFC 8252: http is allowed there), then registration.
const callbackServer = createServer()
callbackServer.listen(Number(args.port), '127.0.0.1')
await once(callbackServer, 'listening')
const redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`
const scope = args.scope.split(',').map((s) => s.startsWith('https://') ? s : `${SCOPE_BASE}${s.trim()}`).join(' ')
const insecure = new URL(host).protocol === 'http:'
const registration = await fetch(acg['x-imssf-registrationUrl'], {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    client_name: 'Tessera example client',
    client_uri: 'https://github.com/tessera-badges',
    software_id: 'tessera-open-badges-client',
    software_version: '1.0.0',
    redirect_uris: [redirectUri],
    scope,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code']
  })
})
const registered = await registration.json() as { client_id: string, client_secret: string, error_description?: string }
if (registration.status !== 201) throw new Error(`registration refused: ${registered.error_description ?? registration.status}`)
say('registered', { clientId: registered.client_id }, `Registered as client ${registered.client_id}.`)
const config = new client.Configuration({ issuer: host, authorization_endpoint: acg.flows.authorizationCode.authorizationUrl, token_endpoint: acg.flows.authorizationCode.tokenUrl }, registered.client_id, registered.client_secret)
if (insecure) client.allowInsecureRequests(config)

// 3. The holder's browser: sign in, consent, and back to the callback.
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const authorizationUrl = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope, state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })
say('authorize', { url: authorizationUrl.href }, `Open this in the holder's browser:\n  ${authorizationUrl.href}`)
const returned = await new Promise<URL>((resolve) => {
  callbackServer.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', redirectUri)
    if (url.pathname !== '/callback') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Done: you can close this page and go back to the terminal.')
    resolve(url)
  })
})
callbackServer.close()
if (returned.searchParams.has('error')) throw new Error(`the holder did not connect: ${returned.searchParams.get('error_description') ?? returned.searchParams.get('error') ?? ''}`)

// 4. Tokens, then the resources.
const tokens = await client.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state })
say('tokens', { scope: tokens.scope, expiresIn: tokens.expires_in, refresh: tokens.refresh_token !== undefined }, `Connected (scopes: ${tokens.scope ?? ''}; the access token lasts ${String(tokens.expires_in)} s).`)
const read = async (path: string): Promise<{ status: number, body: any, total: string | null }> => {
  const response = await fetch(`${host}/ims/ob/v3p0${path}`, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/json' } })
  return { status: response.status, body: response.status === 200 ? await response.json() : await response.text(), total: response.headers.get('x-total-count') }
}
if (scope.includes('profile.readonly')) {
  const profile = await read('/profile')
  say('profile', { status: profile.status, profile: profile.body }, profile.status === 200 ? `Profile: ${String(profile.body.name)} <${String(profile.body.email)}>` : `Profile: ${profile.status}`)
}
if (scope.includes('credential.readonly')) {
  const list = await read('/credentials?limit=100')
  const credentials = (list.body.credential ?? []) as Array<{ name?: string, issuer?: { name?: string } }>
  say('credentials', { status: list.status, total: list.total, names: credentials.map((c) => c.name) }, `${String(list.total)} badge(s):${credentials.map((c) => `\n  ${c.name ?? '?'} (${c.issuer?.name ?? '?'})`).join('')}`)
}
