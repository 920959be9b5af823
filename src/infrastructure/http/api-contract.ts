import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { htmlPage, isProblemResponse, noBody, problemResponse, problemSchema, type ProblemStatus } from './common-schemas.js'
import { PROBLEM_CONTENT_TYPE } from '../../kernel/errors.js'

/**
 * The published contract: an OpenAPI 3.1 document built from the route
 * schemas themselves (@fastify/swagger), at /openapi.json, with a browsable
 * reference at /docs (@fastify/swagger-ui). Each route declares its summary,
 * tags and responses in its own `schema`; the responses are also what Fastify
 * serializes with, so the document cannot promise a field the service does
 * not send. test/api-contract.test.ts holds every route to it.
 */

/** The groups of the contract; a route names its group in `schema.tags`. */
export const TAG = {
  operations: 'Operations',
  documents: 'Issuers, achievements and keys',
  credentials: 'Credentials (public)',
  verification: 'Verification',
  statusLists: 'Status lists',
  emailPreferences: 'Holders\' email preferences',
  portal: 'Holders\' portal and order form',
  assets: 'Site assets',
  staffAchievements: 'Staff: achievements',
  staffCredentials: 'Staff: credentials',
  staffAudit: 'Staff: audit trail',
  staffKeys: 'Staff: API keys',
  staffWebhooks: 'Staff: webhooks',
  staffOrders: 'Staff: orders and correction requests',
  staffRegistry: 'Staff: recognised issuers',
  staffContinuingEducation: 'Staff: continuing education and recertification applications',
  console: 'Staff console (HTML)',
  openBadges: 'Open Badges 3.0 API',
  wallets: 'Wallets',
  vcApi: 'W3C VC API issuer'
} as const

const TAG_DESCRIPTIONS: Record<(typeof TAG)[keyof typeof TAG], string> = {
  Operations: 'Liveness, readiness and this document',
  'Issuers, achievements and keys': 'The public documents credentials point to: issuer Profiles, Achievements, verification keys',
  'Credentials (public)': 'A credential\'s one URL for life: every version byte for byte, and its files',
  Verification: 'Verify any Open Badges 3.0 credential, or ask about a stored one',
  'Status lists': 'Signed BitstringStatusListCredentials (revocation and suspension)',
  'Holders\' email preferences': 'The unsubscribe link of reminder emails',
  'Holders\' portal and order form': 'HTML forms for holders: sign in by email link, My badges, corrections, the order form',
  'Site assets': 'Stylesheets of the HTML pages',
  'Staff: achievements': 'Define achievements and their recertification rules',
  'Staff: credentials': 'Issue, find, revoke, correct and recertify credentials',
  'Staff: audit trail': 'Every change, who made it and why',
  'Staff: API keys': 'Scoped staff keys',
  'Staff: webhooks': 'Webhook endpoints and their deliveries',
  'Staff: orders and correction requests': 'The queue of badge orders and holders\' correction requests',
  'Staff: recognised issuers': 'The registry of foreign issuers the verifier recognises, and the names it shows them by',
  'Staff: continuing education and recertification applications': 'Approved CE providers per achievement, each credential\'s continuing-education record and progress, and the holders\' recertification applications to approve or reject',
  'Staff console (HTML)': 'The back office in a browser: passkey and single sign-on, the dashboard, search, a credential\'s page and its actions, the queues, achievements and their design, CSV upload, administration',
  'Open Badges 3.0 API': 'The 1EdTech Open Badges 3.0 API (/ims/ob/v3p0): discovery, a holder\'s credentials and profile for the platforms they connected (OAuth 2.0); errors are Imsx_StatusInfo',
  Wallets: 'A badge into a holder\'s wallet: single-use offers (the VC API interaction URL), the W3C VC API exchange (Learner Credential Wallet, LearnCard) and OpenID for Verifiable Credential Issuance (pre-authorised code)',
  'W3C VC API issuer': 'The W3C VC API issuer routes for staff systems: issue a credential, change its status (staff keys and scopes, as /api/v1)'
}

/**
 * The 1EdTech Imsx_StatusInfo (OB 3.0 §6.3): what every refusal of the Open
 * Badges API (/ims/ob/v3p0) is instead of a problem document, as its OpenAPI
 * file has it, so certified platforms read our errors as the spec's.
 */
export const imsxStatusInfoSchema = {
  $id: 'Imsx_StatusInfo',
  type: 'object',
  description: 'The Open Badges API\'s status information (1EdTech Imsx_StatusInfo)',
  required: ['imsx_codeMajor', 'imsx_severity'],
  additionalProperties: false,
  properties: {
    imsx_codeMajor: { type: 'string', enum: ['failure', 'processing', 'success', 'unsupported'] },
    imsx_severity: { type: 'string', enum: ['error', 'status', 'warning'] },
    imsx_description: { type: 'string' },
    imsx_codeMinor: {
      type: 'object',
      additionalProperties: false,
      required: ['imsx_codeMinorField'],
      properties: {
        imsx_codeMinorField: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['imsx_codeMinorFieldName', 'imsx_codeMinorFieldValue'],
            properties: {
              imsx_codeMinorFieldName: { type: 'string' },
              imsx_codeMinorFieldValue: { type: 'string', enum: ['forbidden', 'fullsuccess', 'internal_server_error', 'invalid_data', 'invalid_query_parameter', 'misdirected_request', 'not_acceptable', 'not_allowed', 'not_found', 'not_modified', 'server_busy', 'unauthorizedrequest', 'unknown'] }
            }
          }
        }
      }
    }
  }
} as const

/** The Open Badges API's routes answer Imsx_StatusInfo (application/json), never problems. */
const isOpenBadgesApi = (route: RouteOptions): boolean => typeof route.url === 'string' && route.url.startsWith('/ims/')
const imsxResponse = (status: number): ResponseEntry => ({ description: `Imsx_StatusInfo (HTTP ${status})`, content: { 'application/json': { schema: { $ref: 'Imsx_StatusInfo#' } } } })

type ResponseEntry = { description?: string, content?: Record<string, unknown> } & Record<string, unknown>

/**
 * The problems a route can answer because of what wraps every route like it,
 * not because of what its handler does: bearer auth and scopes, rate limits,
 * Idempotency-Key on staff POSTs, body parsing and request validation, load
 * shedding, the database and the catch-all 500.
 */
function sharedProblems (route: RouteOptions): ProblemStatus[] {
  const methods = ([] as string[]).concat(route.method)
  const schema = (route.schema ?? {}) as Record<string, unknown>
  const withBody = methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH')
  const statuses: ProblemStatus[] = [500, 503]
  if (schema.params !== undefined || schema.querystring !== undefined || schema.body !== undefined || withBody) statuses.push(400)
  if (withBody) statuses.push(413, 415)
  if (route.config?.scope !== undefined) statuses.push(401, 403, 429)
  if (route.config?.scope !== undefined && methods.includes('POST')) statuses.push(409, 422)
  if (route.config?.rateLimit !== undefined) statuses.push(429)
  return [...new Set(statuses)]
}

/**
 * Called for each route as it is registered (before @fastify/swagger and the
 * serializer read it): adds the shared problem responses the route does not
 * declare itself, and the staff routes' scope and the bearer security scheme.
 * The route's summary, tags and own responses are its own.
 */
export function describeRoute (route: RouteOptions): void {
  const schema = (route.schema ?? {}) as Record<string, unknown>
  if (schema.hide === true) return
  const response: Record<string, ResponseEntry> = { ...(schema.response as Record<string, ResponseEntry> | undefined) }
  // The staff console's pages answer what wraps them as pages too (a form's refusal to a browser),
  // and send a GET without a session to the sign-in page.
  const consolePage = typeof route.url === 'string' && route.url.startsWith('/console')
  const consolePublic = (route.config as { consolePublic?: boolean } | undefined)?.consolePublic === true
  if (consolePage && !consolePublic && ([] as string[]).concat(route.method).includes('GET')) {
    response[303] ??= noBody('No console session: to the sign-in page', { Location: { type: 'string', description: '/console/sign-in?next=…' } }) as unknown as ResponseEntry
  }
  const openBadgesApi = isOpenBadgesApi(route)
  for (const status of sharedProblems(route)) {
    const declared = response[status]
    if (openBadgesApi) {
      response[status] ??= imsxResponse(status)
    } else if (declared === undefined && consolePage) {
      const page = htmlPage('The refusal as a console page (to a browser), or as a problem')
      response[status] = { ...problemResponse(status), content: { ...page.content, ...problemResponse(status).content } }
    } else if (declared === undefined) {
      response[status] = problemResponse(status)
    } else if (declared.content !== undefined && !isProblemResponse(declared)) {
      // The route answers this status itself (an HTML form page), the shared layers with a problem.
      response[status] = { ...declared, content: { ...declared.content, ...problemResponse(status).content } }
    }
  }
  const scope = route.config?.scope
  const own = typeof schema.description === 'string' ? `${schema.description}\n\n` : ''
  route.schema = {
    ...schema,
    response,
    ...(openBadgesApi
      ? {
          ...(typeof route.config?.obScope === 'string' ? { security: [{ OAuth2ACG: [route.config.obScope] }] } : {}),
          description: `${own}${typeof route.config?.obScope === 'string' ? `Requires an OAuth 2.0 access token with the \`${route.config.obScope}\` scope (the holder's consent). ` : ''}Errors are Imsx_StatusInfo (application/json), as the 1EdTech Open Badges 3.0 API has them.`
        }
      : scope !== undefined && consolePage
        ? { 'x-scope': scope, description: `${own}Requires a console session of a staff user whose role holds the \`${scope}\` scope. Refusals are console pages.` }
        : scope !== undefined
          ? { security: [{ bearer: [] }], 'x-scope': scope, description: `${own}Requires an API key with the \`${scope}\` scope. Errors are ${PROBLEM_CONTENT_TYPE} (see docs/errors.md).` }
          : { description: `${own}Public. Errors are ${PROBLEM_CONTENT_TYPE} (see docs/errors.md).` })
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The OAuth scope an Open Badges API route requires (its token check and this contract read it). */
    obScope?: string
  }
}

/** `oauthScopes`: the Open Badges API's scopes and what each allows, for its OAuth2ACG security scheme. */
export async function installApiContract (app: FastifyInstance, options: { oauthScopes: Readonly<Record<string, string>> }): Promise<void> {
  // Shared by every route's problem responses ({ $ref: 'Problem#' }); @fastify/swagger lists it under components.schemas.
  app.addSchema(problemSchema)
  app.addSchema(imsxStatusInfoSchema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '1',
        description: 'Open Badges 3.0 issuing and verification. Staff routes (/api/v1) need `Authorization: Bearer <key>` with the scope each names; every error is application/problem+json with a stable `type` (urn:tessera:problem:<code>); a browser (Accept preferring text/html) gets the same error as an HTML page.'
      },
      servers: [{ url: app.config.publicBaseUrl }],
      tags: Object.entries(TAG_DESCRIPTIONS).map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A staff API key (tsk_...) or the bootstrap ADMIN_API_KEY' },
          // The Open Badges API's (/ims/ob/v3p0): the OAuth server's own endpoints, as the OB discovery document names them.
          OAuth2ACG: {
            type: 'oauth2',
            description: 'OAuth 2.0 authorization code grant with PKCE S256 (the holder signs in and consents); clients register at /oauth/register (RFC 7591)',
            flows: { authorizationCode: { authorizationUrl: `${app.config.publicBaseUrl}/oauth/authorize`, tokenUrl: `${app.config.publicBaseUrl}/oauth/token`, refreshUrl: `${app.config.publicBaseUrl}/oauth/token`, scopes: options.oauthScopes } }
          }
        }
      }
    },
    // Shared schemas keep their $id as their name ("Problem"), not def-0.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}` }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false })
  // The reference UI runs its own scripts: a CSP for it alone (every other page has none).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/docs')) void reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'")
    return payload
  })
  app.get('/openapi.json', {
    schema: {
      hide: true,
      summary: 'This OpenAPI 3.1 document',
      tags: [TAG.operations],
      response: { 200: { description: 'The OpenAPI document, generated from the route schemas', content: { 'application/json': { schema: { description: 'An OpenAPI 3.1 document' } } } } }
    }
  }, async (_request, reply) => await reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())))
}
