import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { recordAuditEvent } from '../../capabilities/audit/store.js'
import { INTERACTION_PATH, type PendingAuthorization } from '../../capabilities/open-badges-api/authorization-server.js'
import { OB_SCOPE_WORDS, type ObScope } from '../../capabilities/open-badges-api/scopes.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'

/** Where the sign-in that a consent page asked for returns to (a signed cookie; the portal's sign-in reads it). */
export const AFTER_SIGN_IN_COOKIE = 'tessera_after_sign_in'
/** The only places AFTER_SIGN_IN_COOKIE may send a browser: a consent page. */
export const AFTER_SIGN_IN_PATH = /^\/account\/connect\/[\w-]{1,64}$/

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const uidParams = { type: 'object', additionalProperties: false, required: ['uid'], properties: { uid: { type: 'string', pattern: '^[\\w-]{1,64}$' } } } as const
const grantParams = { type: 'object', additionalProperties: false, required: ['grantId'], properties: { grantId: { type: 'string', pattern: '^[\\w-]{1,64}$' } } } as const
const decisionBody = { type: 'object', additionalProperties: false, required: ['decision'], properties: { _csrf: text(200), decision: { type: 'string', enum: ['allow', 'deny'] } } } as const
const emptyForm = { type: 'object', additionalProperties: false, properties: { _csrf: text(200) } } as const
const formRefusals = { 403: htmlPage('The form expired: its CSRF token is missing or stale'), 429: htmlPage('Too many posts from this address (Retry-After)') } as const
const toSignIn = { 303: noBody('Not signed in: to the sign-in form', { Location: { type: 'string', description: '/account' } }) }
const expired = htmlPage('The connection request is unknown or expired (a page saying to start again from the platform)')

const scopeWords = (scopes: readonly string[]): string[] => scopes.map((s) => OB_SCOPE_WORDS[s as ObScope] ?? s)

/**
 * The holder's side of the Open Badges API's OAuth flow: the consent page
 * oidc-provider sends a browser to (signing in first with the portal's
 * emailed link), and the list of connected platforms, where a connection is
 * withdrawn with all its tokens. Audited with the holder as actor.
 */
export async function connectionRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { config: perMinute(app.config.rateLimits.formsPerMinute), preValidation: app.csrfProtection }
  const render = (reply: FastifyReply, template: string, data: { title: string } & Record<string, unknown>, status = 200): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').header('X-Robots-Tag', 'noindex').header('Cache-Control', 'no-store').send(renderSitePage(template, app.config, data))
  const expiredPage = (reply: FastifyReply): FastifyReply =>
    render(reply, 'account-message', { title: 'This connection request has expired', heading: 'This connection request has expired', text: 'Nothing was shared. Go back to the platform that sent you here and connect again.', alert: true, next: { href: '/account', text: 'My badges' } }, 400)

  const consentPage = (reply: FastifyReply, pending: PendingAuthorization, email: string): FastifyReply => {
    const redirectOrigin = new URL(pending.redirectUri).origin
    // The answer redirects the browser to the platform: Chrome applies form-action to a form's whole redirect chain.
    reply.header('Content-Security-Policy', `default-src 'none'; img-src 'self' data: https:; style-src 'self'; form-action 'self' ${redirectOrigin}; base-uri 'none'; frame-ancestors 'none'`)
    return render(reply, 'account-connect', { title: `Connect ${pending.client.name}`, csrf: reply.generateCsrf(), client: pending.client, scopes: scopeWords(pending.scopes), email, redirectOrigin, action: `${INTERACTION_PATH}/${pending.uid}` })
  }

  app.get(`${INTERACTION_PATH}/:uid`, {
    schema: {
      summary: 'The consent page of the Open Badges API\'s authorization (HTML): sign in first, then allow or deny',
      tags: [TAG.portal],
      params: uidParams,
      response: { 200: htmlPage('The consent page (signed in), or the sign-in form that comes back here'), 400: expired }
    }
  }, async (request, reply) => {
    const pending = await app.authorizationServer.pendingAuthorization(request.raw, reply.raw)
    if (pending?.uid !== request.params.uid) return expiredPage(reply)
    const email = request.session.email
    if (email === undefined) {
      reply.setCookie(AFTER_SIGN_IN_COOKIE, `${INTERACTION_PATH}/${pending.uid}`, { path: '/account', httpOnly: true, sameSite: 'lax', secure: 'auto', signed: true, maxAge: 30 * 60 })
      return render(reply, 'account-sign-in', { title: `Sign in to connect ${pending.client.name}`, csrf: reply.generateCsrf(), message: `${pending.client.name} asks to connect to your badges. Sign in first: the emailed link brings you back here to allow or deny it.` })
    }
    return consentPage(reply, pending, email)
  })

  app.post(`${INTERACTION_PATH}/:uid`, {
    ...posts,
    schema: {
      summary: 'Allow or deny a platform\'s connection: back to the authorization server, which sends the browser to the platform',
      tags: [TAG.portal],
      params: uidParams,
      body: decisionBody,
      response: { ...toSignIn, 303: noBody('On to the authorization server (then the platform\'s redirect_uri with a code, or error=access_denied)', { Location: { type: 'string', description: '/oauth/authorize/…' } }), 400: expired, ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', `${INTERACTION_PATH}/${request.params.uid}`).send()
    const pending = await app.authorizationServer.pendingAuthorization(request.raw, reply.raw)
    if (pending?.uid !== request.params.uid) return expiredPage(reply)
    const allow = request.body.decision === 'allow'
    const next = await app.authorizationServer.finishAuthorization(request.raw, reply.raw, { holderEmail: email, allow })
    await recordAuditEvent(app.sql, { actor: 'holder', action: allow ? 'oauth.connection_allowed' : 'oauth.connection_denied', subjectType: 'oauth_client', subjectId: pending.client.clientId, details: { scopes: pending.scopes }, requestId: request.id })
    return await reply.code(303).header('Location', next).send()
  })

  const connectionsPage = async (reply: FastifyReply, email: string, message?: string): Promise<FastifyReply> => {
    const connections = await app.authorizationServer.connections(email)
    return render(reply, 'account-connections', {
      title: 'Connected platforms',
      csrf: reply.generateCsrf(),
      message,
      connections: connections.map((c) => ({ ...c, scopes: scopeWords(c.scopes), connectedOn: longDate(c.connectedAt), lastUsedOn: longDate(c.lastTokenAt) }))
    })
  }

  app.get('/account/connections', {
    schema: { summary: 'The platforms the holder connected through the Open Badges API (HTML)', tags: [TAG.portal], response: { 200: htmlPage('The list, each with a withdraw button'), ...toSignIn } }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    return await connectionsPage(reply, email)
  })

  app.post('/account/connections/:grantId/withdraw', {
    ...posts,
    schema: {
      summary: 'Withdraw a connection: its grant and every token it holds are revoked at once',
      tags: [TAG.portal],
      params: grantParams,
      body: emptyForm,
      response: { 200: htmlPage('The list again, saying what was withdrawn'), 404: htmlPage('The holder has no such connection'), ...toSignIn, ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const name = (await app.authorizationServer.connections(email)).find((c) => c.grantId === request.params.grantId)?.clientName
    if (name === undefined || !await app.authorizationServer.withdraw(email, request.params.grantId)) {
      return render(reply, 'account-message', { title: 'Connection not found', heading: 'Connection not found', text: 'You have no connection with this link; it may have been withdrawn already.', next: { href: '/account/connections', text: 'Connected platforms' } }, 404)
    }
    await recordAuditEvent(app.sql, { actor: 'holder', action: 'oauth.connection_withdrawn', subjectType: 'oauth_grant', subjectId: request.params.grantId, requestId: request.id })
    return await connectionsPage(reply, email, `${name} is no longer connected: its tokens stopped working.`)
  })
}
