import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { notFound } from '../../kernel/errors.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { JSON_LD_TYPES } from '../../infrastructure/http/json-ld-reply.js'
import { jsonLdDocument, problems } from '../../infrastructure/http/common-schemas.js'
import { listVerifyingKeys } from '../../capabilities/keys/store.js'
import { issuerProfileDocument } from '../../capabilities/issuers/profile.js'
import { findIssuer } from '../../capabilities/issuers/store.js'

export async function issuerRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/issuers/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'The issuer Profile (controller document of its Data Integrity keys)',
      tags: [TAG.documents],
      params: idParams,
      response: {
        200: jsonLdDocument('The OB 3.0 Profile, listing every key that still verifies in `assertionMethod`', JSON_LD_TYPES),
        ...problems(404, 406)
      }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const issuer = await findIssuer(app.sql, id)
    if (issuer === undefined) throw notFound(`Issuer "${id}"`)
    const keys = await listVerifyingKeys(app.sql, id)
    return await reply.sendJsonLd(issuerProfileDocument(issuer, keys, app.urls))
  })
}
