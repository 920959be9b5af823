import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { createWalletOffer, OFFER_LIFETIME_MS, OFFERS_PER_BADGE_PER_HOUR } from '../../capabilities/wallets/offers.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { AppError } from '../../kernel/errors.js'
import { findHolderBadge, sendPortalMessage, sendPortalPage, type HolderBadge } from './holder-badge.js'

const offerBody = { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string', maxLength: 200 } } } as const
const toSignIn = { 303: noBody('Not signed in: to the sign-in form', { Location: { type: 'string', description: '/account' } }) }
const formRefusals = { 403: htmlPage('The form expired: its CSRF token is missing or stale'), 429: htmlPage('Too many posts from this address, or too many wallet offers of this badge this hour (Retry-After)') } as const
const notYours = { 404: htmlPage('None of the signed-in holder\'s badges has this id') } as const

/**
 * "Add to wallet": the holder asks for a wallet offer of one of their
 * badges. The page says what it means; the button (a CSRF-protected post)
 * makes a portal offer (single-use, OFFER_LIFETIME_MS.portal, audited by
 * createWalletOffer) and sends the browser to the offer's interaction URL,
 * whose page shows the QR codes and the wallets' buttons (post, then
 * redirect: reloading the page shows the same offer, it does not make
 * another). A revoked badge, or more than OFFERS_PER_BADGE_PER_HOUR offers of
 * one badge in an hour, is refused with a page saying so.
 */
export async function addToWalletRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const html = (reply: FastifyReply, status: number, template: string, data: { title: string } & Record<string, unknown>): FastifyReply => sendPortalPage(app, reply, status, template, data)
  const message = (reply: FastifyReply, status: number, heading: string, text: string): FastifyReply => sendPortalMessage(app, reply, status, heading, text)

  const ownBadge = async (email: string, id: string): Promise<HolderBadge | undefined> => await findHolderBadge(app, email, id)

  app.get('/account/badges/:id/wallet', {
    schema: { summary: 'What adding a badge to a digital wallet means, and the button that makes an offer (HTML)', tags: [TAG.portal], params: idParams, response: { 200: htmlPage('The page'), ...toSignIn, ...notYours } }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const badge = await ownBadge(email, request.params.id)
    if (badge === undefined) return message(reply, 404, 'Badge not found', 'None of your badges has this link.')
    return html(reply, 200, 'account-wallet', { title: 'Add your badge to a wallet', csrf: reply.generateCsrf(), minutes: OFFER_LIFETIME_MS.portal / 60_000, ...badge })
  })

  app.post('/account/badges/:id/wallet', {
    config: perMinute(app.config.rateLimits.formsPerMinute),
    preValidation: app.csrfProtection,
    schema: {
      summary: 'Make a single-use wallet offer of the badge and go to its page (the QR codes and the wallets\' buttons)',
      tags: [TAG.portal],
      params: idParams,
      body: offerBody,
      response: {
        303: noBody('To the offer\'s interaction URL, whose page shows the QR codes (or, signed out, to the sign-in form)', { Location: { type: 'string', description: '/wallet/offers/{token}?iuv=1, or /account' } }),
        409: htmlPage('Refused: the badge is revoked'),
        ...notYours,
        ...formRefusals
      }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const badge = await ownBadge(email, request.params.id)
    if (badge === undefined) return message(reply, 404, 'Badge not found', 'None of your badges has this link.')
    try {
      const offer = await createWalletOffer({ sql: app.sql, now: app.clock(), baseUrl: app.config.publicBaseUrl, actor: 'holder' }, { credentialId: badge.id, holderEmail: email, channel: 'portal', revoked: badge.revoked })
      request.log.info({ credentialId: badge.id, offerId: offer.id }, 'wallet offer made by its holder')
      // A path: the page is served at whatever host served this one.
      const location = new URL(offer.urls.interaction)
      return await reply.code(303).header('Cache-Control', 'no-store').header('Location', `${location.pathname}${location.search}`).send()
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      if (error.code === 'credential_revoked') return message(reply, 409, 'This badge cannot be added to a wallet', 'Your badge is revoked: a revoked badge cannot be added to a wallet. Its page says why.')
      if (error.code === 'too_many_requests') return message(reply.header('Retry-After', '3600'), 429, 'Too many wallet offers', `At most ${OFFERS_PER_BADGE_PER_HOUR} wallet offers of one badge can be made in an hour. Please try again later, or use one of the offers you already made while it lasts.`)
      throw error
    }
  })
}
