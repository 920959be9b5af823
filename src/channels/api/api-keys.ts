import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { dateTime } from '../../infrastructure/http/common-schemas.js'
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

/** Staff API keys: create (the secret shown once), list, revoke. Scope keys:admin. */
export async function apiKeyRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.post('/api-keys', { schema: { body: createApiKeyBody }, config: { scope: 'keys:admin' } }, async (request, reply) => {
    const body = request.body
    const { key, row } = await createApiKey(
      { sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id },
      { name: body.name, scopes: body.scopes, ...(body.expiresAt !== undefined ? { expiresAt: new Date(body.expiresAt) } : {}) }
    )
    return await reply.code(201).header('Cache-Control', 'no-store').send({ ...apiKeyResource(row), key })
  })

  app.get('/api-keys', { config: { scope: 'keys:admin' } }, async () => ({ items: (await listApiKeys(app.sql)).map(apiKeyResource) }))

  app.post('/api-keys/:id/revoke', { schema: { params: keyIdParams }, config: { scope: 'keys:admin' } }, async (request) => {
    const { id } = request.params
    return apiKeyResource(await revokeStaffKey({ sql: app.sql, actor: staffOf(request).actor, now: app.clock(), requestId: request.id }, id))
  })
}
