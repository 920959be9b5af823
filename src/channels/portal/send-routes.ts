import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { beginConnection, completeConnection } from '../../capabilities/open-badges-consumer/connect-host.js'
import { disconnectHost } from '../../capabilities/open-badges-consumer/connections.js'
import { HostClient } from '../../capabilities/open-badges-consumer/host-client.js'
import { pushCredential } from '../../capabilities/open-badges-consumer/push-credential.js'
import { softwareVersion } from '../../capabilities/open-badges-consumer/software.js'
import { clearPendingCredential } from '../../capabilities/open-badges-consumer/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { AppError } from '../../kernel/errors.js'
import { findHolderBadge, sendPortalMessage, sendPortalPage, type HolderBadge } from './holder-badge.js'

const sendBody = { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string', maxLength: 200 }, host: { type: 'string', maxLength: 2000 } } } as const
const callbackQuery = {
  type: 'object',
  properties: { code: { type: 'string', maxLength: 2000 }, state: { type: 'string', maxLength: 200 }, iss: { type: 'string', maxLength: 2000 }, error: { type: 'string', maxLength: 200 }, error_description: { type: 'string', maxLength: 2000 } }
} as const
const toSignIn = { 303: noBody('Not signed in: to the sign-in form', { Location: { type: 'string', description: '/account' } }) }
const formRefusals = { 403: htmlPage('The form expired: its CSRF token is missing or stale'), 429: htmlPage('Too many posts from this address (Retry-After)') } as const
const notYours = { 404: htmlPage('None of the signed-in holder\'s badges has this id') } as const

/** What the Host's answer means to the holder. */
const SAID = { created: 'added it to your account there', replaced: 'updated the copy it already had', unchanged: 'already had this very badge' } as const

/**
 * A holder sends one of their badges to an Open Badges 3.0 Host they name:
 * the service registers at the Host, the holder signs in and consents there,
 * the badge's current signed version is posted once, and the connection is
 * then revoked and forgotten (a one-off delivery: nothing of the holder's
 * account elsewhere stays here). The holder's session must be the one that
 * started it (the callback is under /account and needs it).
 */
export async function sendToHostRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const hosts = new HostClient(app.config.outbound.allowLoopback)
  const posts = { config: perMinute(app.config.rateLimits.formsPerMinute), preValidation: app.csrfProtection }
  const html = (reply: FastifyReply, status: number, template: string, data: { title: string } & Record<string, unknown>): FastifyReply => sendPortalPage(app, reply, status, template, data)
  const message = (reply: FastifyReply, status: number, heading: string, text: string): FastifyReply => sendPortalMessage(app, reply, status, heading, text)

  const ownBadge = async (email: string, id: string): Promise<HolderBadge | undefined> => await findHolderBadge(app, email, id)
  const form = (reply: FastifyReply, badge: { id: string, achievementName: string }, status = 200, extra: { error?: string, host?: string } = {}): FastifyReply =>
    html(reply, status, 'account-send', { title: 'Send your badge to another platform', csrf: reply.generateCsrf(), ...badge, ...extra })

  app.get('/account/badges/:id/send', {
    schema: { summary: 'The form to send a badge to another Open Badges platform (HTML)', tags: [TAG.portal], params: idParams, response: { 200: htmlPage('The form'), ...toSignIn, ...notYours } }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const badge = await ownBadge(email, request.params.id)
    if (badge === undefined) return message(reply, 404, 'Badge not found', 'None of your badges has this link.')
    return form(reply, badge)
  })

  app.post('/account/badges/:id/send', {
    ...posts,
    schema: {
      summary: 'Register at the platform the holder named and send the browser there to sign in and agree',
      tags: [TAG.portal],
      params: idParams,
      body: sendBody,
      response: {
        303: noBody('To the platform\'s consent page (or, signed out, to the sign-in form)', { Location: { type: 'string', description: 'The platform\'s authorization URL, or /account' } }),
        400: htmlPage('The form again: the address is not an Open Badges platform, or it refused'),
        503: htmlPage('The form again: the platform could not be reached'),
        ...notYours,
        ...formRefusals
      }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const badge = await ownBadge(email, request.params.id)
    if (badge === undefined) return message(reply, 404, 'Badge not found', 'None of your badges has this link.')
    const host = (request.body.host ?? '').trim()
    try {
      const { authorizationUrl } = await beginConnection({ sql: app.sql, hosts, now: app.clock(), baseUrl: app.config.publicBaseUrl, issuerName: app.config.issuer.name, ...(app.config.issuer.url !== undefined ? { issuerUrl: app.config.issuer.url } : {}), softwareVersion: softwareVersion(), actor: 'holder', requestId: request.id }, { discoveryUrl: host, owner: { holderEmail: email }, credentialId: badge.id })
      return await reply.code(303).header('Location', authorizationUrl).send()
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      const words = error.statusCode === 503 ? error.message : `This address is not an Open Badges 3.0 platform this service can send to. ${error.message}`
      return form(reply, badge, error.statusCode === 503 ? 503 : 400, { error: words, host })
    }
  })

  app.get('/account/send/callback', {
    schema: {
      summary: 'Where the platform sends the holder back after they agreed: the badge is sent, and the page says what the platform answered',
      tags: [TAG.portal],
      querystring: callbackQuery,
      response: {
        200: htmlPage('Sent: what the platform answered'),
        400: htmlPage('Not sent: the answer was not from a send started in this session, the platform declined, or it refused the badge'),
        404: htmlPage('Not sent: the badge is no longer the holder\'s'),
        409: htmlPage('Not sent: the badge is revoked'),
        503: htmlPage('Not sent: the platform could not be reached'),
        ...toSignIn
      }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    let connectionId: string | undefined
    let answer: { status: number, heading: string, text: string }
    try {
      const connection = await completeConnection({ sql: app.sql, hosts, now: app.clock(), baseUrl: app.config.publicBaseUrl, requestId: request.id }, request.query, { holderEmail: email })
      connectionId = connection.id
      const where = connection.hostName ?? connection.hostUrl
      if (connection.pendingCredentialId === null) {
        answer = { status: 400, heading: 'Nothing to send', text: `You are connected to ${where}, but no badge was waiting to be sent. Start again from your badge.` }
      } else {
        await clearPendingCredential(app.sql, connection.id)
        const pushed = await pushCredential({ sql: app.sql, hosts, now: app.clock(), actor: 'holder', requestId: request.id }, { connectionId: connection.id, credentialId: connection.pendingCredentialId, owner: { holderEmail: email } })
        request.log.info({ credentialId: pushed.credentialId, hostStatus: pushed.hostStatus }, 'badge sent to another platform by its holder')
        answer = { status: 200, heading: 'Your badge was sent', text: `${where} ${SAID[pushed.status]} (it answered HTTP ${pushed.hostStatus}). This service kept no access to your account there.` }
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      answer = { status: error.statusCode === 404 || error.statusCode === 409 || error.statusCode === 503 ? error.statusCode : 400, heading: 'Your badge was not sent', text: error.message }
    }
    // A one-off delivery: the tokens are revoked at the platform and the connection forgotten, whatever happened, before the page is sent.
    if (connectionId !== undefined) await disconnectHost({ sql: app.sql, hosts, actor: 'holder', requestId: request.id }, connectionId, email).catch((error: unknown) => { request.log.warn({ err: error }, 'a holder\'s one-off connection could not be removed') })
    return message(reply, answer.status, answer.heading, answer.text)
  })
}
