import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { beginConnection, completeConnection } from '../../capabilities/open-badges-consumer/connect-host.js'
import { connectionResource, disconnectHost, listHostConnections } from '../../capabilities/open-badges-consumer/connections.js'
import { HostClient } from '../../capabilities/open-badges-consumer/host-client.js'
import { pushCredential } from '../../capabilities/open-badges-consumer/push-credential.js'
import { softwareVersion } from '../../capabilities/open-badges-consumer/software.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody, nullableString, nullableTimestamp, problems, sendNoBody, timestamp } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { AppError } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'

/** Scopes: connecting the issuer to a platform is an integration like a webhook; pushing delivers a credential. */
const CONNECT_SCOPE = 'webhooks:admin'
const PUSH_SCOPE = 'credentials:issue'

/** A connection as listed: never a token, the client secret or the PKCE verifier. */
const connectionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'hostUrl', 'hostName', 'discoveryUrl', 'clientId', 'scopes', 'state', 'createdAt', 'createdBy', 'connectedAt', 'accessExpiresAt', 'lastPushAt'],
  properties: {
    id: { type: 'string' },
    hostUrl: { type: 'string', description: 'The Host\'s origin' },
    hostName: { ...nullableString, description: 'The title of the Host\'s discovery document' },
    discoveryUrl: { type: 'string' },
    clientId: { type: 'string', description: 'The client_id the Host gave at registration' },
    scopes: { type: 'array', items: { type: 'string' } },
    state: { type: 'string', enum: ['pending', 'connected'], description: 'pending: waiting for the consent at the Host' },
    createdAt: timestamp,
    createdBy: { type: 'string' },
    connectedAt: nullableTimestamp,
    accessExpiresAt: nullableTimestamp,
    lastPushAt: nullableTimestamp
  }
} as const

const connectBody = {
  examples: [{ discoveryUrl: 'https://backpack.example/ims/ob/v3p0/discovery' }],
  type: 'object',
  additionalProperties: false,
  required: ['discoveryUrl'],
  properties: { discoveryUrl: { type: 'string', minLength: 8, maxLength: 2000, description: 'The Host\'s Service Description Document, or its base URL (/ims/ob/v3p0/discovery is added)' } }
} as const

const pushBody = {
  examples: [{ credentialId: 'dW5pcXVlLWlk' }],
  type: 'object',
  additionalProperties: false,
  required: ['credentialId'],
  properties: { credentialId: { type: 'string', pattern: ID_PATTERN } }
} as const

const pushResult = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'hostStatus', 'credentialId', 'version'],
  properties: {
    status: { type: 'string', enum: ['created', 'replaced', 'unchanged'], description: 'What the Host did (its 201, 200 or 304)' },
    hostStatus: { type: 'integer' },
    credentialId: { type: 'string' },
    version: { type: 'integer', description: 'The version sent: the credential\'s current one' }
  }
} as const

/** Staff: connect the issuer to another Open Badges 3.0 Host and push credentials there (the Service Consumer). */
export async function openBadgesHostStaffRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const hosts = new HostClient(app.config.outbound.allowLoopback)

  app.post('/ob-hosts', {
    schema: {
      summary: 'Connect the issuer to another Open Badges 3.0 Host: discovery and registration; open authorizationUrl to consent at the Host',
      tags: [TAG.staffWebhooks],
      body: connectBody,
      response: {
        201: { description: 'Registered at the Host; pending until the consent comes back to /ob-hosts/callback', type: 'object', additionalProperties: false, required: ['id', 'authorizationUrl', 'connection'], properties: { id: { type: 'string' }, authorizationUrl: { type: 'string' }, connection: connectionSchema } },
        ...problems(400, 503)
      }
    },
    config: { scope: CONNECT_SCOPE }
  }, async (request, reply) => {
    const { connection, authorizationUrl } = await beginConnection({ sql: app.sql, hosts, now: app.clock(), baseUrl: app.config.publicBaseUrl, issuerName: app.config.issuer.name, ...(app.config.issuer.url !== undefined ? { issuerUrl: app.config.issuer.url } : {}), softwareVersion: softwareVersion(), actor: staffOf(request).actor, requestId: request.id }, { discoveryUrl: request.body.discoveryUrl, owner: 'issuer' })
    return await reply.code(201).header('Cache-Control', 'no-store').send({ id: connection.id, authorizationUrl, connection: connectionResource(connection, null) })
  })

  app.get('/ob-hosts', {
    schema: {
      summary: 'The issuer\'s connections to other Hosts (never their tokens or secrets)',
      tags: [TAG.staffWebhooks],
      response: { 200: { description: 'Newest first', type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: connectionSchema } } } }
    },
    config: { scope: CONNECT_SCOPE }
  }, async () => ({ items: await listHostConnections(app.sql, 'issuer') }))

  app.delete('/ob-hosts/:id', {
    schema: {
      summary: 'Disconnect from a Host: its tokens are revoked at the Host when it can (best effort), then the connection is deleted',
      tags: [TAG.staffWebhooks],
      params: idParams,
      response: { 204: noBody('Disconnected'), ...problems(404) }
    },
    config: { scope: CONNECT_SCOPE }
  }, async (request, reply) => {
    await disconnectHost({ sql: app.sql, hosts, actor: staffOf(request).actor, requestId: request.id }, request.params.id, 'issuer')
    return await sendNoBody(reply, 204)
  })

  app.post('/ob-hosts/:id/push', {
    schema: {
      summary: 'Push a credential\'s current version to a connected Host (POST /ims/ob/v3p0/credentials there)',
      tags: [TAG.staffWebhooks],
      params: idParams,
      body: pushBody,
      response: {
        200: { description: 'What the Host answered', ...pushResult },
        ...problems([400, 'The Host refused the credential; the detail quotes its Imsx_StatusInfo description (client_error)'], 404, 409, 503)
      }
    },
    config: { scope: PUSH_SCOPE }
  }, async (request) =>
    await pushCredential({ sql: app.sql, hosts, now: app.clock(), actor: staffOf(request).actor, requestId: request.id }, { connectionId: request.params.id, credentialId: request.body.credentialId, owner: 'issuer' }))
}

const callbackQuery = {
  type: 'object',
  properties: {
    code: { type: 'string', maxLength: 2000 },
    state: { type: 'string', maxLength: 200 },
    iss: { type: 'string', maxLength: 2000 },
    error: { type: 'string', maxLength: 200 },
    error_description: { type: 'string', maxLength: 2000 }
  }
} as const

/** The browser's return from another Host's authorization (public: the state names the pending connection). */
export async function openBadgesHostCallbackRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const hosts = new HostClient(app.config.outbound.allowLoopback)
  const page = (reply: FastifyReply, status: number, heading: string, text: string): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').header('X-Robots-Tag', 'noindex')
      .send(renderSitePage('account-message', app.config, { title: heading, heading, text, alert: status !== 200 }))

  app.get('/ob-hosts/callback', {
    schema: {
      summary: 'Where another Host sends the browser back after consent: the code is exchanged and the tokens kept (sealed)',
      tags: [TAG.staffWebhooks],
      querystring: callbackQuery,
      response: {
        200: htmlPage('Connected'),
        400: htmlPage('The answer was not from a connection started here, or the Host refused'),
        503: htmlPage('The Host could not be reached to finish the connection')
      }
    }
  }, async (request, reply) => {
    try {
      const connection = await completeConnection({ sql: app.sql, hosts, now: app.clock(), baseUrl: app.config.publicBaseUrl, requestId: request.id }, request.query, 'issuer')
      return page(reply, 200, 'Connected', `${app.config.issuer.name} is connected to ${connection.hostName ?? connection.hostUrl}. Staff can now send credentials there (POST /api/v1/ob-hosts/${connection.id}/push). You can close this page.`)
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      return page(reply, error.statusCode === 503 ? 503 : 400, 'The connection was not made', error.message)
    }
  })
}
