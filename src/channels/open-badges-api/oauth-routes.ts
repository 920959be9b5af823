import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { OAUTH_PATHS } from '../../capabilities/open-badges-api/authorization-server.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { perMinute } from '../../infrastructure/http/hardening.js'

const oauthJson = (description: string): { description: string, content: Record<string, { schema: object }> } =>
  ({ description, content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } } })
const oauthError = oauthJson('An OAuth 2.0 error (RFC 6749 §5.2 / RFC 7591 §3.2.2): { error, error_description }')
const redirect = { description: 'A redirect (to the consent page, or back to the platform\'s redirect_uri with code or error)', type: 'null' }
const html = (description: string): { description: string, content: Record<string, { schema: object }> } => ({ description, content: { 'text/html': { schema: { type: 'string' } } } })

/**
 * The OAuth 2.0 authorization server's endpoints, answered by oidc-provider
 * itself: this plugin only hands it the raw request (its own body parsing,
 * its own OAuth error format, which RFC 6749 and RFC 7591 prescribe instead
 * of problem+json). The routes are declared one by one, so the API contract
 * lists them and registration gets its own rate limit.
 */
export async function openBadgesOAuthRoutes (app: FastifyInstance): Promise<void> {
  // Leave the body unread: oidc-provider parses it (urlencoded for the token endpoint, JSON for registration).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => { done(null) })

  const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.hijack()
    await app.authorizationServer.handle(request.raw, reply.raw)
  }
  const route = (summary: string, description: string, response: Record<string, unknown>, extra: RouteShorthandOptions = {}): RouteShorthandOptions =>
    ({ ...extra, schema: { summary, description, tags: [TAG.openBadges], response } })

  app.route({
    method: ['GET', 'POST'],
    url: OAUTH_PATHS.authorization,
    ...route('OAuth 2.0 authorization endpoint (authorization code, PKCE S256 required)',
      'Sends the holder\'s browser to the consent page (signing in first), then back to the registered redirect_uri with `code` and `state`, or an `error`.',
      { 303: redirect, 302: redirect, 400: html('The request cannot be redirected back (unknown client or redirect_uri): a page saying why') }),
    handler: forward
  })
  app.get(`${OAUTH_PATHS.authorization}/:uid`, route('Resume an authorization after consent (oidc-provider\'s own step)', 'The consent page sends the browser here.', { 303: redirect, 302: redirect, 400: html('Unknown or expired interaction') }), forward)
  app.post(OAUTH_PATHS.token, route('OAuth 2.0 token endpoint (HTTP Basic client authentication)',
    '`grant_type=authorization_code` (with `code_verifier` and the exact `redirect_uri`) or `grant_type=refresh_token`.',
    { 200: oauthJson('{ access_token, token_type: Bearer, expires_in, refresh_token, scope }'), 400: oauthError, 401: oauthError }), forward)
  app.post(OAUTH_PATHS.registration, route('OAuth 2.0 Dynamic Client Registration (RFC 7591), without an initial access token',
    'JSON client metadata: `client_name`, `client_uri`, `software_id`, `software_version` and https `redirect_uris` (or loopback http, RFC 8252) are required; `logo_uri`, `tos_uri`, `policy_uri` must be https; `scope` limits what the platform may ask for. Rate-limited per client IP (RATE_LIMIT_FORMS_PER_MINUTE).',
    { 201: oauthJson('The registered client: client_id, client_secret, client_id_issued_at, client_secret_expires_at (0: never) and the metadata'), 400: oauthError },
    { config: perMinute(app.config.rateLimits.formsPerMinute) }), forward)
  app.post(OAUTH_PATHS.revocation, route('OAuth 2.0 token revocation (RFC 7009)', 'Revoking a refresh token ends the connection (every token of its grant); revoking an access token ends that token.', { 200: { description: 'Revoked (or unknown: RFC 7009 answers 200 either way)', type: 'null' }, 400: oauthError, 401: oauthError }), forward)
  app.get(OAUTH_PATHS.jwks, route('The authorization server\'s public keys (JWKS)', 'An Ed25519 key, a service secret shared by every instance.', { 200: { description: '{ keys: [...] }', content: { 'application/jwk-set+json': { schema: { type: 'object', additionalProperties: true } } } } }), forward)
  app.get('/.well-known/openid-configuration', route('The authorization server\'s metadata (oidc-provider\'s discovery document)', 'The Open Badges API\'s own discovery is GET /ims/ob/v3p0/discovery.', { 200: oauthJson('Authorization server metadata') }), forward)
}
