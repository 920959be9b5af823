import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { dateTime, nullableString, nullableTimestamp, problems, timestamp } from '../../infrastructure/http/common-schemas.js'
import { apiKeyResource, createApiKey, listApiKeys, revokeStaffKey } from '../../capabilities/staff-access/api-keys.js'
import { SCOPES, staffOf } from '../../capabilities/staff-access/bearer-auth.js'

const createApiKeyBody = {
  examples: [{ name: 'Exam office', scopes: ['credentials:issue', 'credentials:read'], expiresAt: '2027-12-31T00:00:00Z' }],
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' },
    scopes: { type: 'array', minItems: 1, maxItems: SCOPES.length, uniqueItems: true, items: { type: 'string', enum: SCOPES } },
    expiresAt: dateTime
  }
} as const

const keyIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^([A-Za-z0-9]{12}|bootstrap)$' } }
} as const

/** A staff key as listed: never its secret (only a hash is kept). */
const apiKeySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'prefix', 'name', 'scopes', 'createdAt', 'createdBy', 'expiresAt', 'lastUsedAt', 'revokedAt', 'revokedBy'],
  properties: {
    id: { type: 'string' },
    prefix: { ...nullableString, description: 'How the key starts (tsk_...), to recognise it; null for the bootstrap key' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: SCOPES } },
    createdAt: timestamp,
    createdBy: { type: 'string' },
    expiresAt: nullableTimestamp,
    lastUsedAt: nullableTimestamp,
    revokedAt: nullableTimestamp,
    revokedBy: nullableString
  }
} as const

const createdKeySchema = {
  ...apiKeySchema,
  required: [...apiKeySchema.required, 'key'],
  properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'The secret: shown this once (Cache-Control: no-store)' } }
} as const

type ApiKeyResource = FromSchema<typeof apiKeySchema>
/** The capability builds the resource; the schema is its contract, which the serializer holds it to. */
const resourceOf = (row: Parameters<typeof apiKeyResource>[0]): ApiKeyResource => apiKeyResource(row) as ApiKeyResource

/** Staff API keys: create (the secret shown once), list, revoke. Scope keys:admin. */
export async function apiKeyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.post('/api-keys', {
    schema: {
      summary: 'Create a scoped staff key (the secret is shown once)',
      tags: [TAG.staffKeys],
      body: createApiKeyBody,
      response: { 201: { description: 'Created, with its secret', ...createdKeySchema } }
    },
    config: { scope: 'keys:admin' }
  }, async (request, reply) => {
    const body = request.body
    const { key, row } = await createApiKey(
      { sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id },
      { name: body.name, scopes: body.scopes, ...(body.expiresAt !== undefined ? { expiresAt: new Date(body.expiresAt) } : {}) }
    )
    return await reply.code(201).header('Cache-Control', 'no-store').send({ ...resourceOf(row), key })
  })

  app.get('/api-keys', {
    schema: {
      summary: 'List staff keys (never their secrets)',
      tags: [TAG.staffKeys],
      response: { 200: { description: 'Every key, revoked ones included', type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: apiKeySchema } } } }
    },
    config: { scope: 'keys:admin' }
  }, async () => ({ items: (await listApiKeys(app.sql)).map(resourceOf) }))

  app.post('/api-keys/:id/revoke', {
    schema: {
      summary: 'Revoke a staff key',
      tags: [TAG.staffKeys],
      params: keyIdParams,
      response: { 200: { description: 'Revoked', ...apiKeySchema }, ...problems(404, [409, 'The key is already revoked, or cannot be (the bootstrap key)']) }
    },
    config: { scope: 'keys:admin' }
  }, async (request) => {
    const { id } = request.params
    return resourceOf(await revokeStaffKey({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id }, id))
  })
}
