import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { findLiveOffer, offerUrls } from '../../capabilities/wallets/offers.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { problems } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'

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
 * The interaction URL (the VC API "interact" pattern): what a QR code holds.
 * A wallet GETs it and picks a protocol it speaks. The offer is not used by
 * reading it: it is used when the badge is delivered.
 */
export async function walletOfferRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.get('/wallet/offers/:token', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'A wallet offer\'s interaction URL: the protocols it can be answered by',
      tags: [TAG.wallets],
      params: offerTokenParams,
      querystring: { type: 'object', properties: { iuv: { type: 'string', enum: ['1'] } } },
      response: { 200: { description: 'The protocols (no-store)', ...protocolsSchema }, ...problems(404, 410) }
    }
  }, async (request, reply) => {
    const offer = await findLiveOffer(app.sql, request.params.token, app.clock())
    const urls = offerUrls(app.config.publicBaseUrl, request.params.token)
    void reply.header('Cache-Control', 'no-store').header('Vary', 'Accept')
    return { protocols: { vcapi: urls.vcapiExchange, OID4VCI: urls.oid4vciOffer }, expires: offer.expiresAt.toISOString() }
  })
}
