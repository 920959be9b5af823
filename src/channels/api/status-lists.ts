import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { notFound } from '../../kernel/errors.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { findServedStatusList } from '../../capabilities/status-lists/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { jsonLdDocument, noBody, problems, sendNoBody } from '../../infrastructure/http/common-schemas.js'

const STATUS_LIST_TYPES = ['application/vc+ld+json', 'application/ld+json', 'application/vc', 'application/json'] as const

/** A signed list as served from the document cache. */
export interface ServedStatusList { id: string, version: number, credential: string, signedAt: Date, bytes: number }

export async function statusListRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/status-lists/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'A signed BitstringStatusListCredential',
      tags: [TAG.statusLists],
      params: idParams,
      response: {
        200: jsonLdDocument('The signed list, byte for byte as signed (ETag, Last-Modified; Cache-Control: no-cache)', STATUS_LIST_TYPES),
        304: noBody('Not modified: the If-None-Match ETag is current'),
        ...problems(404, 406)
      }
    }
  }, async (request, reply) => {
    const { id } = request.params
    // A read never writes (so reads can go to a replica): lists are re-signed
    // ahead of their validUntil by the refresh task, not here.
    // From memory when it can: re-signing a list announces it (caching/change-feed.ts).
    const list = await app.documents.statusLists.read(`status-list:${id}`, async () => {
      const row = await findServedStatusList(app.sql, id)
      return row === undefined ? undefined : { ...row, bytes: row.credential.length + 200 }
    })
    if (list === undefined) throw notFound(`Status list "${id}"`)
    const etag = `"${list.id}-${list.version}"`
    // no-cache: caches may keep the list but must revalidate (a cheap 304) on every
    // use, so a revocation is visible to the next fetch.
    void reply.header('ETag', etag).header('Cache-Control', 'public, no-cache').header('Last-Modified', list.signedAt.toUTCString())
    const ifNoneMatch = request.headers['if-none-match']
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(etag)) {
      return await sendNoBody(reply, 304)
    }
    return await reply.sendJsonLd(list.credential, STATUS_LIST_TYPES)
  })
}
