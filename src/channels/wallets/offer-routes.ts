import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import QRCode from 'qrcode'
import { findAchievement } from '../../capabilities/achievements/store.js'
import { findCredential } from '../../capabilities/credentials/store.js'
import { findLiveOffer, offerUrls, type OfferUrls } from '../../capabilities/wallets/offers.js'
import { lcwCredentialRequestLink } from '../../capabilities/wallets/vc-api-exchange.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { prefersHtml } from '../../infrastructure/http/browser-errors.js'
import { htmlPage, problemResponse } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'

export const offerTokenParams = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'The offer\'s token (what the interaction URL names)' } }
} as const

const protocolsSchema = {
  type: 'object',
  required: ['protocols'],
  additionalProperties: false,
  properties: {
    protocols: {
      type: 'object',
      required: ['vcapi', 'OID4VCI'],
      additionalProperties: false,
      properties: {
        vcapi: { type: 'string', description: 'The W3C VC API exchange to POST to' },
        OID4VCI: { type: 'string', description: 'The OpenID4VCI credential offer (openid-credential-offer://, by reference)' }
      }
    },
    expires: { type: 'string', format: 'date-time' }
  }
} as const

/**
 * The wallets' own links that start a VC API exchange, as their published
 * code builds them:
 * - Learner Credential Wallet takes `https://lcw.app/request?request=<JSON>`,
 *   the JSON being a Wallet API exchange invitation `{ credentialRequestOrigin,
 *   protocols }` (openwallet-foundation-labs/learner-credential-wallet:
 *   app.config.js lists https://lcw.app/request among its link prefixes;
 *   app/lib/walletRequestApi.ts parseWalletApiUrl reads the `request` param;
 *   app/screens/ExchangeCredentials/ExchangeCredentials.tsx posts to
 *   `protocols.vcapi`). Only `vcapi` is given: it is the protocol LCW speaks.
 *   The phone hands the app only its custom schemes (app.config.js: Android
 *   intent filters and iOS URL schemes for `dccrequest` and `interaction`; the
 *   associated domain is lcw.app/mobile), so the same invitation also goes as
 *   `dccrequest://request?request=<JSON>` (app/lib/deepLinkConfig.ts: a link
 *   with `request=` goes to the exchange), for a phone where the https link
 *   opens the web site instead.
 * - LearnCard takes `https://learncard.app/request?vc_request_url=<exchange>`
 *   (learningeconomy/LearnCard: apps/learn-card-app/src/pages/claim-from-request/
 *   InteractWithWallet.tsx and ClaimFromRequest.tsx; docs.learncard.com,
 *   "Interoperate with LearnCard", recipe 1a).
 */
export function walletDeepLinks (baseUrl: string, urls: OfferUrls, token: string): { lcw: string, lcwApp: string, learnCard: string } {
  // Released Learner Credential Wallet (v2.2.9, and main as of June 2026) keeps a badge only from its
  // credential request link: its VC API exchange path authenticates but drops a badge delivered after
  // DID authentication. So its buttons carry that link (the same offer, single-use across both).
  const lcw = lcwCredentialRequestLink(baseUrl, token)
  return {
    lcw,
    lcwApp: `dccrequest://request?${new URL(lcw).search.slice(1)}`,
    learnCard: `https://learncard.app/request?vc_request_url=${encodeURIComponent(urls.vcapiExchange)}`
  }
}

const QR_SCALE = 6
const QR_MARGIN = 4

/**
 * A QR code as a PNG data URL (the pages' CSP allows data: images; they run
 * no script) and its size in pixels, drawn at whole pixels per module so the
 * page shows it unscaled.
 */
export async function qrImage (text: string): Promise<{ src: string, size: number }> {
  const size = (QRCode.create(text, { errorCorrectionLevel: 'M' }).modules.size + 2 * QR_MARGIN) * QR_SCALE
  return { src: await QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: QR_MARGIN, scale: QR_SCALE }), size }
}

/** "in 15 minutes", "in 14 days": how long from now, in words. */
function fromNow (ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000))
  if (minutes < 90) return `in ${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `in ${hours} hours`
  return `in ${Math.round(hours / 24)} days`
}

/** "5 December 2026 at 07:15 UTC (in 15 minutes)". */
export function expiryInWords (expiresAt: Date, now: Date): string {
  return `${longDate(expiresAt) ?? ''} at ${expiresAt.toISOString().slice(11, 16)} UTC (${fromNow(expiresAt.getTime() - now.getTime())})`
}

/**
 * The interaction URL (the VC API "interact" pattern): what a QR code holds.
 * A wallet GETs it (Accept: application/json, or no Accept) and picks a
 * protocol it speaks. A browser (it prefers text/html) gets the page with
 * the QR codes and the wallets' buttons instead: the address the issue
 * email links to and where the portal's "Add to wallet" leads; the link is
 * the secret, so no sign-in is asked. The offer is not used by reading it:
 * it is used when the badge is delivered.
 */
export async function walletOfferRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.get('/wallet/offers/:token', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'A wallet offer\'s interaction URL: the protocols it can be answered by (JSON), or to a browser the page with its QR codes',
      tags: [TAG.wallets],
      params: offerTokenParams,
      querystring: { type: 'object', properties: { iuv: { type: 'string', enum: ['1'] } } },
      response: {
        200: {
          description: 'The protocols (no-store; Vary: Accept); a browser that prefers text/html gets the page with the QR codes and the wallets\' buttons',
          content: { 'application/json': { schema: protocolsSchema }, 'text/html': { schema: { type: 'string', description: 'An HTML page' } } }
        },
        // A browser gets the error as a page.
        ...Object.fromEntries(([404, 410] as const).map((status) => [String(status), { ...problemResponse(status), content: { ...problemResponse(status).content, ...htmlPage('').content } }]))
      }
    }
  }, async (request, reply) => {
    const now = app.clock()
    void reply.header('Cache-Control', 'no-store').header('Vary', 'Accept')
    const offer = await findLiveOffer(app.sql, request.params.token, now)
    const urls = offerUrls(app.config.publicBaseUrl, request.params.token)
    if (!prefersHtml(request.headers.accept)) {
      return await reply.type('application/json').send({ protocols: { vcapi: urls.vcapiExchange, OID4VCI: urls.oid4vciOffer }, expires: offer.expiresAt.toISOString() })
    }
    const credential = await findCredential(app.sql, offer.credentialId)
    const achievement = credential === undefined ? undefined : await findAchievement(app.sql, credential.achievementId)
    const links = walletDeepLinks(app.config.publicBaseUrl, urls, request.params.token)
    const html = renderSitePage('wallet-offer', app.config, {
      title: 'Add your badge to a wallet',
      achievementName: achievement?.name ?? 'your',
      interactionUrl: urls.interaction,
      interactionQr: await qrImage(urls.interaction),
      oid4vciOffer: urls.oid4vciOffer,
      oid4vciQr: await qrImage(urls.oid4vciOffer),
      lcwUrl: links.lcw,
      lcwAppUrl: links.lcwApp,
      learnCardUrl: links.learnCard,
      expiresIso: offer.expiresAt.toISOString(),
      expires: expiryInWords(offer.expiresAt, now),
      fromEmail: offer.channel === 'email'
    })
    // No store: the page holds a bearer secret (sendPage's no-cache would let a shared cache keep it).
    return await reply.code(200).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').header('X-Robots-Tag', 'noindex').header('Referrer-Policy', 'no-referrer').send(html)
  })
}
