import formBody from '@fastify/formbody'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findLiveOffer } from '../../capabilities/wallets/offers.js'
import {
  acceptHttpIdentifiersIfBaseIsHttp,
  authorizationServerMetadata,
  credentialIssuerMetadata,
  credentialOfferFor,
  createNonce,
  exchangePreAuthorizedCode,
  issueCredential,
  type IssuerDisplay,
  OAuthError,
  offerForAccessToken,
  OID4VCI_PATHS
} from '../../capabilities/wallets/oid4vci.js'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { problems } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'

const json = (description: string): { description: string, content: Record<string, { schema: object }> } =>
  ({ description, content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } } })
const oauthError = (description: string): ReturnType<typeof json> =>
  json(`${description}: an OAuth 2.0 / OID4VCI error { error, error_description } (RFC 6749 §5.2, OID4VCI 1.0 §6.3, §8.3.1)`)

const tokenParams = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'The offer\'s token (what the interaction URL names)' } }
} as const

const tokenRequest = {
  type: 'object',
  description: 'application/x-www-form-urlencoded: grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code, pre-authorized_code, and tx_code for an offer sent by email',
  properties: {
    grant_type: { type: 'string', maxLength: 200 },
    'pre-authorized_code': { type: 'string', maxLength: 200 },
    tx_code: { type: 'string', maxLength: 100 },
    client_id: { type: 'string', maxLength: 500 },
    resource: { type: 'string', maxLength: 2000 },
    authorization_details: { type: 'string', maxLength: 10_000 }
  },
  additionalProperties: { type: 'string', maxLength: 10_000 }
} as const

const credentialRequest = {
  type: 'object',
  description: 'OID4VCI 1.0 §8.2: { credential_configuration_id: "OpenBadgeCredential_ldp_vc", proofs: { jwt: [ "<openid4vci-proof+jwt>" ] } } (or the single `proof` of earlier drafts)',
  properties: {
    credential_configuration_id: { type: 'string', maxLength: 200 },
    proofs: { type: 'object' },
    proof: { type: 'object' }
  },
  additionalProperties: true,
  examples: [{ credential_configuration_id: 'OpenBadgeCredential_ldp_vc', proofs: { jwt: ['eyJhbGciOiJFZERTQSIsInR5cCI6Im9wZW5pZDR2Y2ktcHJvb2Yrand0Iiwia2lkIjoiZGlkOmtleTp6Nk1rLi4uI3o2TWsuLi4ifQ.eyJhdWQiOiJodHRwczovL2JhZGdlcy5leGFtcGxlLm9yZyIsImlhdCI6MTc2NDkxODAwMCwibm9uY2UiOiIuLi4ifQ.c2ln'] } }]
} as const

/**
 * OpenID for Verifiable Credential Issuance 1.0, pre-authorised code flow
 * (issue 27): the credential issuer metadata, the authorization server
 * `<base>/wallet/oid4vci` (its own metadata and token endpoint, apart from
 * the Open Badges API's oidc-provider), credential offers by reference, the
 * nonce and credential endpoints. OAuth errors are OAuth JSON, as the
 * protocol defines them; an offer that cannot be read is a problem, as for
 * the interaction URL.
 */
export async function oid4vciRoutes (fastify: FastifyInstance): Promise<void> {
  // The token endpoint's body is a form (this plugin only).
  await fastify.register(formBody, { bodyLimit: 16_384 })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const publicBaseUrl = app.config.publicBaseUrl
  acceptHttpIdentifiersIfBaseIsHttp(publicBaseUrl)
  const display: IssuerDisplay = { name: app.config.issuer.name, logoUrl: app.config.branding.logoUrl, backgroundColor: app.config.branding.primaryColor }
  const nonceKey = async (): Promise<Buffer> => await serviceSecret(app.sql, 'oid4vci-c-nonce')
  const lookups = perMinute(app.config.rateLimits.lookupPerMinute)
  const forms = perMinute(app.config.rateLimits.formsPerMinute)

  const sendOAuthError = (reply: FastifyReply, error: OAuthError): FastifyReply => {
    void reply.code(error.status).header('Cache-Control', 'no-store').type('application/json')
    if (error.wwwAuthenticate !== undefined) void reply.header('WWW-Authenticate', error.wwwAuthenticate)
    return reply.send(error.body)
  }
  const oauth = async (reply: FastifyReply, work: () => Promise<Record<string, unknown>>): Promise<FastifyReply> => {
    try {
      const answer = await work()
      return reply.header('Cache-Control', 'no-store').type('application/json').send(answer)
    } catch (error) {
      if (error instanceof OAuthError) return sendOAuthError(reply, error)
      throw error
    }
  }
  const requestLike = (request: FastifyRequest): { method: 'POST', url: string, headers: Headers } => {
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers.set(name, value)
    return { method: 'POST', url: `${publicBaseUrl.replace(/\/$/, '')}${request.url}`, headers }
  }

  app.get(OID4VCI_PATHS.issuerMetadata, {
    config: lookups,
    schema: {
      summary: 'OpenID4VCI credential issuer metadata',
      description: 'OID4VCI 1.0 §12.2: the credential issuer (PUBLIC_BASE_URL), its authorization server (`<base>/wallet/oid4vci`), the nonce and credential endpoints, and one credential configuration: an Open Badges 3.0 credential as `ldp_vc` (eddsa-rdfc-2022), bound to a did:key or did:jwk by a `jwt` proof (EdDSA or ES256).',
      tags: [TAG.wallets],
      response: { 200: json('Credential issuer metadata') }
    }
  }, async (_request, reply) => {
    void reply.header('Cache-Control', 'public, max-age=300')
    return credentialIssuerMetadata(publicBaseUrl, display)
  })

  for (const url of [OID4VCI_PATHS.authorizationServerMetadata, OID4VCI_PATHS.authorizationServerMetadataAppended, OID4VCI_PATHS.openidConfigurationAppended]) {
    app.get(url, {
      config: lookups,
      schema: {
        summary: url === OID4VCI_PATHS.authorizationServerMetadata ? 'OpenID4VCI authorization server metadata (RFC 8414)' : 'OpenID4VCI authorization server metadata, where wallets that append the well-known suffix look',
        description: 'The authorization server `<base>/wallet/oid4vci`: its token endpoint takes the pre-authorised code grant only, without client authentication. (The Open Badges API\'s authorization server, `<base>`, is another one: /.well-known/openid-configuration.)',
        tags: [TAG.wallets],
        response: { 200: json('Authorization server metadata') }
      }
    }, async (_request, reply) => {
      void reply.header('Cache-Control', 'public, max-age=300')
      return authorizationServerMetadata(publicBaseUrl)
    })
  }

  app.get(OID4VCI_PATHS.offer, {
    config: lookups,
    schema: {
      summary: 'An OpenID4VCI credential offer, by reference (credential_offer_uri)',
      description: 'What `openid-credential-offer://?credential_offer_uri=…` names: the credential issuer, the credential configuration and the pre-authorised code grant, with `tx_code` when the offer was sent by email. Reading it does not use the offer.',
      tags: [TAG.wallets],
      params: tokenParams,
      response: { 200: json('The credential offer (no-store)'), ...problems(404, 410) }
    }
  }, async (request, reply) => {
    const offer = await findLiveOffer(app.sql, request.params.token, app.clock())
    void reply.header('Cache-Control', 'no-store')
    return await credentialOfferFor(publicBaseUrl, display, request.params.token, offer)
  })

  app.post(OID4VCI_PATHS.token, {
    config: forms,
    attachValidation: true,
    schema: {
      summary: 'OpenID4VCI token endpoint (pre-authorised code grant)',
      description: 'Exchanges the offer\'s pre-authorised code (and its transaction code, for an offer sent by email) for a Bearer access token, once. Five wrong transaction codes close the offer.',
      tags: [TAG.wallets],
      body: tokenRequest,
      response: { 200: json('{ access_token, token_type: Bearer, expires_in, c_nonce, c_nonce_expires_in } (no-store)'), 400: oauthError('invalid_request, invalid_grant, unsupported_grant_type') }
    }
  }, async (request, reply) => {
    if (request.validationError !== undefined) return sendOAuthError(reply, new OAuthError(400, 'invalid_request', `The token request is not valid: ${request.validationError.message}.`))
    const nonce = await nonceKey()
    return await oauth(reply, async () => await exchangePreAuthorizedCode({ sql: app.sql, now: app.clock(), publicBaseUrl, nonceKey: nonce }, request.body as Record<string, unknown>, requestLike(request)))
  })

  app.post(OID4VCI_PATHS.nonce, {
    config: forms,
    schema: {
      summary: 'OpenID4VCI nonce endpoint: a fresh c_nonce',
      description: 'A c_nonce for the proof of possession, valid five minutes on any instance (an HMAC over a random value and its expiry: nothing is stored).',
      tags: [TAG.wallets],
      response: { 200: json('{ c_nonce, c_nonce_expires_in } (no-store)') }
    }
  }, async (_request, reply) => {
    const nonce = createNonce(await nonceKey(), app.clock())
    return await reply.header('Cache-Control', 'no-store').type('application/json').send({ c_nonce: nonce.cNonce, c_nonce_expires_in: nonce.expiresIn })
  })

  app.post(OID4VCI_PATHS.credential, {
    config: forms,
    attachValidation: true,
    schema: {
      summary: 'OpenID4VCI credential endpoint: the badge, bound to the wallet\'s DID',
      description: 'With the access token (Authorization: Bearer) and a `jwt` proof of possession (typ openid4vci-proof+jwt, kid a did:key or did:jwk URL, aud the credential issuer, nonce a c_nonce): the badge is delivered as a new version whose credentialSubject.id is the wallet\'s DID, and answered as `{ credentials: [{ credential }] }` (ldp_vc). The offer is then used.',
      tags: [TAG.wallets],
      body: credentialRequest,
      response: {
        200: json('{ credentials: [{ credential: <the Open Badges credential, Data Integrity proof> }] } (no-store)'),
        400: oauthError('invalid_credential_request, unknown_credential_configuration, invalid_proof, invalid_nonce, credential_request_denied'),
        401: oauthError('invalid_token, with WWW-Authenticate: Bearer')
      }
    }
  }, async (request, reply) => {
    return await oauth(reply, async () => {
      const now = app.clock()
      const offer = await offerForAccessToken(app.sql, request.headers.authorization, now)
      if (request.validationError !== undefined || typeof request.body !== 'object' || request.body === null) throw new OAuthError(400, 'invalid_credential_request', `The credential request is not valid${request.validationError !== undefined ? `: ${request.validationError.message}` : ''}.`)
      const reissue = { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now, actor: 'wallet', statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }
      return await issueCredential({ reissue, publicBaseUrl, display, nonceKey: await nonceKey() }, offer, request.body as Record<string, unknown>)
    })
  })
}
