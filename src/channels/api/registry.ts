import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { locationHeader, nullableString, nullableTimestamp, problems, timestamp } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { notFound } from '../../kernel/errors.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { MAX_MATCHER_LENGTH } from '../../capabilities/registry/matching.js'
import { addRecognisedIssuer, recognisedIssuerResource, removeRecognisedIssuer, type RegistryDeps } from '../../capabilities/registry/service.js'
import { findEntry, listEntries } from '../../capabilities/registry/store.js'

const addBody = {
  examples: [
    { issuerId: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', name: 'Regional Board of Medical Assisting', note: 'CE provider since 2025; key confirmed by phone with their registrar.' },
    { origin: 'https://badges.example.org', name: 'Example Continuing Education' }
  ],
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    issuerId: { type: 'string', minLength: 1, maxLength: MAX_MATCHER_LENGTH, description: 'Recognise this one issuer id, exactly (a DID or URL). Send this or "origin".' },
    origin: { type: 'string', minLength: 1, maxLength: MAX_MATCHER_LENGTH, description: 'Recognise every issuer id under this https origin (https URLs with that scheme, host and port; did:web of that host). Send this or "issuerId".' },
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'What the verify result and page call the issuer' },
    note: { type: 'string', maxLength: 1000, description: 'For staff: why the issuer is recognised, who confirmed it' }
  }
} as const

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    /** The `next` of the previous page. */
    after: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' },
    includeRemoved: { type: 'boolean', default: false, description: 'List removed entries too' }
  }
} as const

const entrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'issuerId', 'origin', 'name', 'note', 'createdAt', 'createdBy', 'removedAt', 'removedBy'],
  properties: {
    id: { type: 'string' },
    issuerId: { ...nullableString, description: 'The one issuer id recognised (null for an origin entry)' },
    origin: { ...nullableString, description: 'The https origin whose issuer ids are recognised (null for an issuer-id entry)' },
    name: { type: 'string' },
    note: nullableString,
    createdAt: timestamp,
    createdBy: { type: 'string', description: 'The API key id that added it, or "config" (TRUSTED_ISSUERS at boot)' },
    removedAt: nullableTimestamp,
    removedBy: nullableString
  }
} as const

type EntryResource = FromSchema<typeof entrySchema>
/** The capability builds the resource; the schema is its contract, which the serializer holds it to. */
const resourceOf = (row: Parameters<typeof recognisedIssuerResource>[0]): EntryResource => recognisedIssuerResource(row) as EntryResource

/** The registry of recognised issuers (scope registry:admin), under /api/v1. */
export async function registryRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const deps = (request: { id: string }, actor: string): RegistryDeps => ({ sql: app.sql, actor, now: app.clock(), requestId: request.id, changes: app.changes })

  app.post('/registry/issuers', {
    schema: {
      summary: 'Recognise a foreign issuer: one issuer id, or every issuer id under an https origin',
      tags: [TAG.staffRegistry],
      body: addBody,
      response: {
        201: { description: 'Added (Location: the entry)', headers: locationHeader, ...entrySchema },
        ...problems([409, 'A current entry already has this issuer id or origin; `existing` names it (id and url)'])
      }
    },
    config: { scope: 'registry:admin' }
  }, async (request, reply) => {
    const body = request.body
    const row = await addRecognisedIssuer(deps(request, staffOf(request).actor), {
      name: body.name,
      ...(body.issuerId !== undefined ? { issuerId: body.issuerId } : {}),
      ...(body.origin !== undefined ? { origin: body.origin } : {}),
      ...(body.note !== undefined ? { note: body.note } : {})
    })
    return await reply.code(201).header('Location', `/api/v1/registry/issuers/${row.id}`).send(resourceOf(row))
  })

  app.get('/registry/issuers', {
    schema: {
      summary: 'List recognised issuers, in the order they were added',
      tags: [TAG.staffRegistry],
      querystring: listQuery,
      response: {
        200: {
          description: 'A page of entries; `next` is the `after` of the next page (null on the last)',
          type: 'object',
          additionalProperties: false,
          required: ['items', 'next'],
          properties: { items: { type: 'array', items: entrySchema }, next: nullableString }
        }
      }
    },
    config: { scope: 'registry:admin' }
  }, async (request) => {
    const q = request.query
    const limit = q.limit ?? 50
    const rows = await listEntries(app.sql, { limit, includeRemoved: q.includeRemoved === true, ...(q.after !== undefined ? { afterSeq: q.after } : {}) })
    const last = rows.at(-1)
    return { items: rows.map(resourceOf), next: rows.length === limit && last !== undefined ? last.seq : null }
  })

  app.get('/registry/issuers/:id', {
    schema: {
      summary: 'One registry entry (removed ones too, with who removed them)',
      tags: [TAG.staffRegistry],
      params: idParams,
      response: { 200: { description: 'The entry', ...entrySchema }, ...problems(404) }
    },
    config: { scope: 'registry:admin' }
  }, async (request) => {
    const row = await findEntry(app.sql, request.params.id)
    if (row === undefined) throw notFound(`Recognised issuer "${request.params.id}"`)
    return resourceOf(row)
  })

  app.delete('/registry/issuers/:id', {
    schema: {
      summary: 'Stop recognising an issuer (the entry stays on record, marked removed)',
      tags: [TAG.staffRegistry],
      params: idParams,
      response: { 200: { description: 'The entry, removed', ...entrySchema }, ...problems(404, [409, 'The entry was already removed']) }
    },
    config: { scope: 'registry:admin' }
  }, async (request) => resourceOf(await removeRecognisedIssuer(deps(request, staffOf(request).actor), request.params.id)))
}
