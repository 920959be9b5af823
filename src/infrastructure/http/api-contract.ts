import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { PROBLEMS } from '../../kernel/errors.js'

/**
 * The published contract: an OpenAPI 3.1 document built from the route
 * schemas themselves (@fastify/swagger), at /openapi.json, with a browsable
 * reference at /docs (@fastify/swagger-ui). Every route gets a tag and a
 * summary here, and staff routes their scope and the bearer security scheme,
 * so a route cannot be added without appearing in the contract
 * (test/api-contract.test.ts).
 */

const SUMMARIES: Record<string, string> = {
  'GET /health': 'Liveness: the process is up',
  'GET /ready': 'Readiness: the database answers',
  'GET /issuers/:id': 'The issuer Profile (controller document of its Data Integrity keys)',
  'GET /.well-known/jwks.json': 'The VC-JWT public keys',
  'GET /keys/:id': 'One public key: a JWK, or a Multikey document',
  'GET /achievements/:id': 'The OB Achievement document',
  'GET /credentials/:id': 'The current version: signed JSON-LD, VC-JWT or the holder\'s page, by Accept',
  'GET /credentials/:id/versions': 'Every version of a credential, with its state',
  'GET /credentials/:id/versions/:version': 'One version, byte for byte (or its page)',
  'GET /credentials/:id/:file': 'A file of the current version: credential.jsonld, credential.jwt, badge.png, badge.svg, preview.png, certificate.pdf, wallet-card.pdf',
  'GET /credentials/:id/versions/:version/:file': 'A file of one version',
  'GET /credentials/:id/verification': 'The verification result of a stored credential (always 200)',
  'POST /credentials/verify': 'Verify a credential: JSON-LD, VC-JWT, enveloped, or a baked PNG/SVG body',
  'GET /status-lists/:id': 'A signed BitstringStatusListCredential',
  'GET /verify': 'The public verify page (HTML)',
  'POST /verify': 'The public verify page: paste or upload (multipart form)',
  'POST /api/v1/achievements': 'Define an achievement (and its recertification rules)',
  'GET /api/v1/achievements': 'List achievements',
  'GET /api/v1/achievements/:id': 'One achievement',
  'PUT /api/v1/achievements/:id/recertification': 'Set or remove an achievement\'s recertification rules',
  'POST /api/v1/credentials': 'Issue a credential (version 1 of a new credential URL)',
  'POST /api/v1/credentials/batch': 'Issue up to 1,000 credentials (JSON items or CSV); 207 with a result per item',
  'GET /api/v1/credentials': 'Find credentials by achievement, email, status, expiry window',
  'GET /api/v1/credentials/:id': 'A credential\'s record: versions, revocation, current documents',
  'POST /api/v1/credentials/:id/revoke': 'Revoke a credential (every live version)',
  'POST /api/v1/credentials/:id/reissue': 'Correct the recipient\'s name or email: a new version under the same URL',
  'POST /api/v1/credentials/:id/recertify': 'Recertify by exam or continuing education, under the achievement\'s rules',
  'GET /api/v1/audit-events': 'The audit trail, newest first',
  'POST /api/v1/api-keys': 'Create a scoped staff key (the secret is shown once)',
  'GET /api/v1/api-keys': 'List staff keys (never their secrets)',
  'POST /api/v1/api-keys/:id/revoke': 'Revoke a staff key',
  'POST /api/v1/webhooks': 'Register a webhook endpoint for event types (the signing secret is shown once)',
  'GET /api/v1/webhooks': 'List webhook endpoints (never their secrets)',
  'GET /api/v1/webhooks/:id': 'One webhook endpoint',
  'POST /api/v1/webhooks/:id/enable': 'Enable a webhook endpoint',
  'POST /api/v1/webhooks/:id/disable': 'Disable a webhook endpoint (nothing is delivered while disabled)',
  'DELETE /api/v1/webhooks/:id': 'Delete a webhook endpoint (its delivery history stays on record)',
  'GET /api/v1/webhooks/:id/deliveries': 'A webhook\'s deliveries, newest first, with every attempt and its answer',
  'POST /api/v1/webhooks/:id/deliveries/:deliveryId/retry': 'Retry a delivery by hand, now',
  'GET /api/v1/orders': 'The queue of badge orders and holders\' correction requests, oldest first (filter by state, type)',
  'GET /api/v1/orders/:id': 'One order or correction request',
  'POST /api/v1/orders/:id/approve': 'Approve: issue the badge for the certification period given (orders) or reissue with the correction; approving twice issues once',
  'POST /api/v1/orders/:id/reject': 'Reject with a reason, which the requester is emailed',
  'GET /account': 'The holders\' portal: sign-in form, or My badges when signed in (HTML)',
  'POST /account': 'Ask for a sign-in link by email (the same answer for every address)',
  'GET /account/sign-in': 'The emailed sign-in link: a page with a button (mail scanners must not use the token)',
  'POST /account/sign-in': 'Use a sign-in token: starts a session',
  'POST /account/sign-out': 'End the session',
  'POST /account/badges/:id/privacy': 'Hide or show a badge\'s public page (the holder\'s own badge)',
  'GET /account/badges/:id/correction': 'The correction request form',
  'POST /account/badges/:id/correction': 'Send a correction request to the staff queue',
  'GET /order': 'The Digital Badge Order Form (HTML)',
  'POST /order': 'Send a badge order to the staff queue',
  'GET /notifications/unsubscribe/:id': 'The unsubscribe link of reminder emails: a confirmation page (HTML)',
  'POST /notifications/unsubscribe/:id': 'Stop reminders for a credential (the page\'s form, or RFC 8058 one-click)'
}

const HIDDEN = [/^\/assets\//, /^\/docs/, /^\/openapi\.json$/]

function tagFor (url: string): string {
  if (url.startsWith('/api/v1/achievements')) return 'Staff: achievements'
  if (url.startsWith('/api/v1/credentials')) return 'Staff: credentials'
  if (url.startsWith('/api/v1/audit-events')) return 'Staff: audit trail'
  if (url.startsWith('/api/v1/api-keys')) return 'Staff: API keys'
  if (url.startsWith('/api/v1/webhooks')) return 'Staff: webhooks'
  if (url.startsWith('/api/v1/orders')) return 'Staff: orders and correction requests'
  if (url.startsWith('/notifications')) return 'Holders\' email preferences'
  if (url.startsWith('/account') || url.startsWith('/order')) return 'Holders\' portal and order form'
  if (url === '/credentials/verify' || url.startsWith('/verify') || url.endsWith('/verification')) return 'Verification'
  if (url.startsWith('/credentials')) return 'Credentials (public)'
  if (url.startsWith('/status-lists')) return 'Status lists'
  if (url.startsWith('/health') || url.startsWith('/ready')) return 'Operations'
  return 'Issuers, achievements and keys'
}

/** Called for each route as it is registered (before @fastify/swagger reads it). */
export function describeRoute (route: RouteOptions): void {
  const methods = ([] as string[]).concat(route.method)
  const schema = (route.schema ?? {}) as Record<string, unknown>
  if (HIDDEN.some((pattern) => pattern.test(route.url))) {
    route.schema = { ...schema, hide: true }
    return
  }
  const summary = SUMMARIES[`${methods.find((m) => m !== 'HEAD') ?? ''} ${route.url}`]
  const scope = route.config?.scope
  route.schema = {
    ...schema,
    tags: [tagFor(route.url)],
    ...(summary !== undefined ? { summary } : {}),
    ...(scope !== undefined
      ? { security: [{ bearer: [] }], 'x-scope': scope, description: `Requires an API key with the \`${scope}\` scope. Errors are application/problem+json (see docs/errors.md).` }
      : { description: 'Public. Errors are application/problem+json (see docs/errors.md).' })
  }
}

export async function installApiContract (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '1',
        description: 'Open Badges 3.0 issuing and verification. Staff routes (/api/v1) need `Authorization: Bearer <key>` with the scope each names; every error is application/problem+json with a stable `type` (urn:tessera:problem:<code>).'
      },
      servers: [{ url: app.config.publicBaseUrl }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A staff API key (tsk_...) or the bootstrap ADMIN_API_KEY' } },
        schemas: {
          Problem: {
            type: 'object',
            required: ['type', 'title', 'status', 'detail'],
            properties: {
              type: { type: 'string', enum: Object.keys(PROBLEMS).map((code) => `urn:tessera:problem:${code}`) },
              title: { type: 'string' },
              status: { type: 'integer' },
              detail: { type: 'string' },
              instance: { type: 'string' }
            }
          }
        }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false })
  // The reference UI runs its own scripts: a CSP for it alone (every other page has none).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/docs')) void reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'")
    return payload
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
