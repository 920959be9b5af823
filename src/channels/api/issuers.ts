import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { notFound } from '../../kernel/errors.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { listVerifyingKeys } from '../../capabilities/keys/store.js'
import { issuerProfileDocument } from '../../capabilities/issuers/profile.js'
import { findIssuer } from '../../capabilities/issuers/store.js'

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
