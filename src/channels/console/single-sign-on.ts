import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { decodeFlow, encodeFlow, FLOW_MINUTES, SingleSignOn, type SingleSignOnFlow } from '../../capabilities/staff-accounts/single-sign-on.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { AppError, PROBLEMS } from '../../kernel/errors.js'
import { safeNext, sendConsoleMessage } from './page.js'

/** The cookie that carries a started sign-on (state, nonce, PKCE verifier, where to go) to the callback. */
const FLOW_COOKIE = 'tessera_sso'
const FLOW_PATH = '/console/sso'

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const toProvider = noBody('To the provider\'s authorization endpoint', { Location: { type: 'string', description: 'The provider\'s authorization URL' } })

/**
 * Staff console: single sign-on with the body's OpenID Connect provider
 * (STAFF_OIDC_*). The start posts from the sign-in page (CSRF token) and
 * sends the browser to the provider; the provider sends it back to the
 * callback (a top-level GET, hence the flow cookie's SameSite=Lax), which
 * starts a console session for the staff user it finds. Without the
 * configuration both routes answer 404.
 */
export async function singleSignOnRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const settings = app.config.staffSingleSignOn
  // One per app: it keeps the provider's discovered configuration for a while.
  const sso = settings === undefined ? undefined : new SingleSignOn(settings, { baseUrl: app.config.publicBaseUrl, allowLoopback: app.config.outbound.allowLoopback })
  const limited = perMinute(app.config.rateLimits.formsPerMinute)

  const configured = (): SingleSignOn => {
    if (sso === undefined) throw new AppError('not_found', 'Single sign-on is not set up on this service: sign in with a passkey.')
    return sso
  }
  const unreachable = (request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply =>
    sendConsoleMessage(request, reply, error.statusCode, { heading: 'Single sign-on is not available', text: error.message, alert: true, next: { href: '/console/sign-in', text: 'Back to sign-in' } })

  app.post('/console/sso/start', {
    preValidation: app.csrfProtection,
    config: { consolePublic: true, ...limited },
    schema: {
      summary: 'Start single sign-on: to the body\'s OpenID Connect provider (Authorization Code, PKCE)',
      tags: [TAG.console],
      body: { type: 'object', additionalProperties: false, properties: { _csrf: text(200), next: text(2000) } },
      response: { 303: toProvider, 403: htmlPage('The form expired (its CSRF token)'), 404: htmlPage('Single sign-on is not configured'), 429: htmlPage('Too many attempts'), 503: htmlPage('The provider could not be reached') }
    }
  }, async (request, reply) => {
    const client = configured()
    let started: { url: string, flow: SingleSignOnFlow }
    try {
      started = await client.begin(app.clock(), safeNext(request.body.next))
    } catch (error) {
      if (error instanceof AppError && error.code === 'service_unavailable') {
        request.log.warn({ err: error.cause }, 'single sign-on: provider discovery failed')
        return unreachable(request, reply, error)
      }
      throw error
    }
    void reply.setCookie(FLOW_COOKIE, encodeFlow(started.flow), { signed: true, httpOnly: true, sameSite: 'lax', secure: 'auto', path: FLOW_PATH, maxAge: FLOW_MINUTES * 60 })
    return await reply.header('Cache-Control', 'no-store').redirect(started.url, 303)
  })

  app.get('/console/sso/callback', {
    config: { consolePublic: true, ...limited },
    schema: {
      summary: 'Single sign-on callback: the provider\'s answer; signs the staff user in',
      tags: [TAG.console],
      // The provider's parameters (RFC 6749 4.1.2, RFC 9207); providers may add their own (session_state).
      querystring: { type: 'object', properties: { code: text(4096), state: text(1024), iss: text(2000), error: text(200), error_description: text(2000) } },
      response: {
        303: noBody('Signed in: to the page asked for', { Location: { type: 'string', description: 'A console page' } }),
        401: htmlPage(`Refused (${PROBLEMS.single_sign_on_refused.title}): unknown or disabled staff user, or the provider's answer not accepted`),
        404: htmlPage('Single sign-on is not configured'),
        429: htmlPage('Too many attempts'),
        503: htmlPage('The provider could not be reached')
      }
    }
  }, async (request, reply) => {
    const client = configured()
    const raw = request.cookies[FLOW_COOKIE]
    const unsigned = raw === undefined ? undefined : request.unsignCookie(raw)
    const flow = unsigned?.valid === true && unsigned.value !== null ? decodeFlow(unsigned.value) : undefined
    // Used once, whatever happens next.
    void reply.clearCookie(FLOW_COOKIE, { path: FLOW_PATH })
    void reply.header('Cache-Control', 'no-store')
    try {
      const user = await client.complete({ sql: app.sql, now: app.clock(), requestId: request.id }, request.url.split('?')[1] ?? '', flow)
      await app.startConsoleSession(request, reply, user, 'oidc')
      return await reply.redirect(safeNext(flow?.next), 303)
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      if (error.code === 'service_unavailable') return unreachable(request, reply, error)
      if (error.code !== 'single_sign_on_refused') throw error
      return sendConsoleMessage(request, reply, error.statusCode, { heading: PROBLEMS.single_sign_on_refused.title, text: error.message, alert: true, next: { href: '/console/sign-in', text: 'Back to sign-in' } })
    }
  })
}
