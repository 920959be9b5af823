import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../http/hardening.js'
import { notFound } from '../errors.js'
import { idParams } from '../http/id-params.js'
import { listVerifyingKeys } from '../keys/store.js'
import { issuerProfileDocument } from './profile.js'
import { findIssuer } from './store.js'

export async function issuerRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/issuers/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: { params: idParams }
  }, async (request, reply) => {
    const { id } = request.params
    const issuer = await findIssuer(app.sql, id)
    if (issuer === undefined) throw notFound(`Issuer "${id}"`)
    const keys = await listVerifyingKeys(app.sql, id)
    return await reply.sendJsonLd(issuerProfileDocument(issuer, keys, app.urls))
  })
}
