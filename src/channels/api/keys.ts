import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import type { FromSchema } from 'json-schema-to-ts'
import { notFound } from '../../kernel/errors.js'
import { multikeyVerificationMethod } from '../../capabilities/issuers/profile.js'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { findPublishedKey, listVerifyingKeys, type PublishedJwkKey } from '../../capabilities/keys/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { JSON_LD_TYPES } from '../../infrastructure/http/json-ld-reply.js'
import { bodyOf, jsonLdDocument, problems } from '../../infrastructure/http/common-schemas.js'

/**
 * A public JWK (RSA or EC). Closed: a member it does not name (a private
 * key's "d", "p", "q"...) can never be served, whatever the row holds.
 */
const publicJwkSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kty', 'kid', 'alg', 'use'],
  properties: {
    kty: { type: 'string', enum: ['RSA', 'EC'] },
    kid: { type: 'string', description: 'This key\'s URL (/keys/{id})' },
    alg: { type: 'string', enum: ['RS256', 'ES256'] },
    use: { type: 'string', enum: ['sig'] },
    n: { type: 'string' },
    e: { type: 'string' },
    crv: { type: 'string' },
    x: { type: 'string' },
    y: { type: 'string' }
  }
} as const

type PublicJwk = FromSchema<typeof publicJwkSchema>

function publicJwk (key: PublishedJwkKey, urls: PublicUrls): PublicJwk {
  // The stored public JWK (jose's wide JWK type); the schema lets only its public members out.
  return { ...key.publicJwk, kid: urls.key(key.id), alg: key.algorithm, use: 'sig' } as PublicJwk
}

export async function keyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  // Every JWT key that still verifies, including retired ones, so that old credentials keep verifying.
  app.get('/.well-known/jwks.json', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'The VC-JWT public keys',
      tags: [TAG.documents],
      response: {
        200: bodyOf('Every JWT key that still verifies, retired ones included', ['application/jwk-set+json'], {
          type: 'object', additionalProperties: false, required: ['keys'], properties: { keys: { type: 'array', items: publicJwkSchema } }
        })
      }
    }
  }, async (_request, reply) => {
    const keys = (await listVerifyingKeys(app.sql)).filter((k): k is PublishedJwkKey => k.algorithm !== 'Ed25519')
    return await reply.header('Cache-Control', 'public, max-age=300').type('application/jwk-set+json').send({ keys: keys.map((k) => publicJwk(k, app.urls)) })
  })

  // A JWT key's `kid` is this URL and returns that single JWK; an Ed25519 key returns its Multikey document.
  app.get('/keys/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'One public key: a JWK, or a Multikey document',
      tags: [TAG.documents],
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,80}$' } }, required: ['id'] },
      response: {
        200: {
          description: 'A JWT key as a JWK; an Ed25519 key as its Multikey verification method (JSON-LD)',
          content: {
            'application/jwk+json': { schema: publicJwkSchema },
            ...jsonLdDocument('The Multikey verification method', JSON_LD_TYPES).content
          }
        },
        ...problems([404, 'No such key, or it was compromised'], 406)
      }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const key = await findPublishedKey(app.sql, id)
    if (key === undefined || key.status === 'compromised') throw notFound(`Key "${id}"`)
    if (key.algorithm !== 'Ed25519') return await reply.type('application/jwk+json').send(publicJwk(key, app.urls))
    return await reply.sendJsonLd({ '@context': [CONTEXTS.multikeyV1], ...multikeyVerificationMethod(key, app.urls) })
  })
}
