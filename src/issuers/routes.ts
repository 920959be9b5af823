import type { FastifyInstance } from 'fastify'
import { notFound } from '../errors.js'
import { ID_PATTERN } from '../ids.js'
import { listVerifyingKeys } from '../keys/store.js'
import { issuerProfileDocument } from './profile.js'
import { findIssuer } from './store.js'

export async function issuerRoutes (app: FastifyInstance): Promise<void> {
  app.get('/issuers/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: ID_PATTERN } }, required: ['id'], additionalProperties: false }
    }
  }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const issuer = await findIssuer(app.sql, id)
    if (issuer === undefined) throw notFound(`Issuer "${id}"`)
    const keys = await listVerifyingKeys(app.sql, id)
    return await reply.sendJsonLd(issuerProfileDocument(issuer, keys, app.urls))
  })
}
