import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import type { JWK } from 'jose'
import { notFound } from '../../kernel/errors.js'
import { multikeyVerificationMethod } from '../../capabilities/issuers/profile.js'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { findPublishedKey, listVerifyingKeys, type PublishedJwkKey } from '../../capabilities/keys/store.js'

function publicJwk (key: PublishedJwkKey, urls: PublicUrls): JWK {
  return { ...key.publicJwk, kid: urls.key(key.id), alg: key.algorithm, use: 'sig' }
}

export async function keyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  // Every JWT key that still verifies, including retired ones, so that old credentials keep verifying.
  app.get('/.well-known/jwks.json', { config: perMinute(app.config.rateLimits.lookupPerMinute) }, async (_request, reply) => {
    const keys = (await listVerifyingKeys(app.sql)).filter((k): k is PublishedJwkKey => k.algorithm !== 'Ed25519')
    return await reply.header('Cache-Control', 'public, max-age=300').type('application/jwk-set+json').send({ keys: keys.map((k) => publicJwk(k, app.urls)) })
  })

  // A JWT key's `kid` is this URL and returns that single JWK; an Ed25519 key returns its Multikey document.
  app.get('/keys/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,80}$' } }, required: ['id'] } }
  }, async (request, reply) => {
    const { id } = request.params
    const key = await findPublishedKey(app.sql, id)
    if (key === undefined || key.status === 'compromised') throw notFound(`Key "${id}"`)
    if (key.algorithm !== 'Ed25519') return await reply.type('application/jwk+json').send(publicJwk(key, app.urls))
    return await reply.sendJsonLd({ '@context': [CONTEXTS.multikeyV1], ...multikeyVerificationMethod(key, app.urls) })
  })
}
