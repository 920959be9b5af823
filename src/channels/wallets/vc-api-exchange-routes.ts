import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import secureJson from 'secure-json-parse'
import { answerCredentialRequest, answerExchange, DID_AUTH_SUITES, type ExchangeDeps } from '../../capabilities/wallets/vc-api-exchange.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { problems, signedDocument } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { exceedsJsonLimits, MAX_JSON_DEPTH } from '../../infrastructure/http/json-body.js'
import { AppError } from '../../kernel/errors.js'
import { offerTokenParams } from './offer-routes.js'

/** A DID authentication is an empty presentation and one proof: a few kilobytes. */
const BODY_LIMIT = 64 * 1024

const exchangeBody = {
  examples: [
    {},
    { verifiablePresentation: { '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/security/suites/ed25519-2020/v1'], type: ['VerifiablePresentation'], holder: 'did:key:z6Mk…', proof: { type: 'Ed25519Signature2020', created: '2026-12-05T08:00:00Z', verificationMethod: 'did:key:z6Mk…#z6Mk…', proofPurpose: 'authentication', challenge: 'the challenge asked', domain: 'https://badges.example.org', proofValue: 'z…' } } }
  ],
  type: 'object',
  description: '`{}` (or no body) to start: the answer is a DID authentication request. Then `{ verifiablePresentation }`: the presentation the wallet signed for it.',
  properties: {
    // Only "an object": the presentation is judged by the verification, never reshaped by the route's ajv.
    verifiablePresentation: { type: 'object', description: 'Signed by the wallet\'s did:key (Ed25519Signature2020 or eddsa-rdfc-2022), proofPurpose "authentication", with the challenge and domain asked for' }
  }
} as const

const didAuthRequest = {
  type: 'object',
  description: 'A Verifiable Presentation Request: DID authentication with a did:key',
  required: ['query', 'challenge', 'domain', 'interact'],
  additionalProperties: false,
  properties: {
    query: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'acceptedMethods', 'acceptedCryptosuites'],
        properties: {
          type: { type: 'string', enum: ['DIDAuthentication'] },
          acceptedMethods: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['method'], properties: { method: { type: 'string' } } } },
          acceptedCryptosuites: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['cryptosuite'], properties: { cryptosuite: { type: 'string', enum: Object.keys(DID_AUTH_SUITES) } } } }
        }
      }
    },
    challenge: { type: 'string', description: 'The proof\'s challenge must be exactly this' },
    domain: { type: 'string', description: 'The proof\'s domain must be this: the service\'s public origin' },
    interact: {
      type: 'object',
      additionalProperties: false,
      required: ['service'],
      properties: {
        service: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['type', 'serviceEndpoint'], properties: { type: { type: 'string' }, serviceEndpoint: { type: 'string', description: 'Where to POST the presentation (this exchange)' } } } }
      }
    }
  }
} as const

const deliveredPresentation = {
  type: 'object',
  description: 'An unsigned presentation holding the badge, bound to the DID that signed the DID authentication',
  required: ['@context', 'type', 'verifiableCredential'],
  additionalProperties: false,
  properties: {
    '@context': { type: 'array', items: { type: 'string' } },
    type: { type: 'array', items: { type: 'string' } },
    verifiableCredential: { type: 'array', items: signedDocument('The Open Badges 3.0 credential (Data Integrity proof), its credentialSubject.id the wallet\'s DID') }
  }
} as const

const exchangeAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: { verifiablePresentationRequest: didAuthRequest, verifiablePresentation: deliveredPresentation }
} as const

/**
 * The W3C VC API exchange of a wallet offer (what Learner Credential Wallet
 * and LearnCard speak), at the `vcapi` URL the interaction URL lists. Open to
 * any origin (the global CORS of public routes: no cookies, the token in the
 * path is the only credential), so browser-based wallets can run it too.
 */
export async function vcApiExchangeRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  // Here only: an empty JSON body is the exchange's first step (`{}`), as the VC API allows.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim()
    if (text === '') { done(null, {}); return }
    let parsed: unknown
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
    } catch {
      done(new AppError('malformed_json', 'The request body is not valid JSON.'), undefined)
      return
    }
    const tooBig = exceedsJsonLimits(parsed, { depth: MAX_JSON_DEPTH, nodes: Number.POSITIVE_INFINITY })
    if (tooBig !== undefined) { done(new AppError('validation_failed', `The JSON body is too complex: ${tooBig}.`), undefined); return }
    done(null, parsed)
  })

  app.post('/wallet/exchanges/:token', {
    config: perMinute(app.config.rateLimits.formsPerMinute),
    bodyLimit: BODY_LIMIT,
    // No body at all (no Content-Type) is the first step too.
    preValidation: (request, _reply, done) => {
      if (request.body === undefined || request.body === null) request.body = {}
      done()
    },
    schema: {
      summary: 'A wallet offer\'s VC API exchange: DID authentication, then the badge bound to the wallet\'s DID',
      description: 'POST `{}` to receive a DIDAuthentication request (challenge, domain); POST `{ verifiablePresentation }` signed by the wallet\'s did:key with that challenge and domain to receive `{ verifiablePresentation }` holding the badge. Single-use: the badge is delivered once.',
      tags: [TAG.wallets],
      params: offerTokenParams,
      body: exchangeBody,
      response: {
        200: { ...exchangeAnswer, description: 'The next step: `verifiablePresentationRequest` (after `{}`), or `verifiablePresentation` holding the delivered badge (after the wallet\'s presentation). No-store.' },
        ...problems([400, 'The presentation was refused (wallet_proof_refused): wrong challenge or domain, bad signature, not a did:key; or a malformed body'], 404, 409, [410, 'The offer was used, expired, or closed after too many refused presentations'], 413, 415, 429, 500, 503)
      }
    }
  }, async (request, reply) => {
    void reply.header('Cache-Control', 'no-store')
    return await answerExchange(exchangeDeps(request.id), request.params.token, request.body)
  })

  app.post('/wallet/exchanges/:token/credential-request', {
    config: perMinute(app.config.rateLimits.formsPerMinute),
    bodyLimit: BODY_LIMIT,
    schema: {
      summary: 'A wallet offer for Learner Credential Wallet\'s credential request link: its signed presentation in, the badge out',
      description: 'What `https://lcw.app/request?issuer=…&auth_type=bearer&challenge=…&vc_request_url=…` makes released Learner Credential Wallet POST: a bare presentation signed by its did:key for "authentication" with the link\'s challenge (a domain, if named, must be this service\'s origin). The answer is a bare presentation holding the badge bound to that DID. Single-use, like the exchange.',
      tags: [TAG.wallets],
      params: offerTokenParams,
      body: { type: 'object', description: 'The wallet\'s signed presentation, as it is (no envelope)', examples: [{ '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/security/suites/ed25519-2020/v1'], type: ['VerifiablePresentation'], holder: 'did:key:z6Mk…', proof: { type: 'Ed25519Signature2020', created: '2026-12-05T08:00:00Z', verificationMethod: 'did:key:z6Mk…#z6Mk…', proofPurpose: 'authentication', challenge: 'the challenge in the link', proofValue: 'z…' } }] },
      response: {
        200: { ...deliveredPresentation, description: 'The badge, bound to the wallet\'s DID, in an unsigned presentation (no-store)' },
        ...problems([400, 'The presentation was refused (wallet_proof_refused): wrong challenge or domain, bad signature, not a did:key; or a malformed body'], 404, 409, [410, 'The offer was used, expired, or closed after too many refused presentations'], 413, 415, 429, 500, 503)
      }
    }
  }, async (request, reply) => {
    void reply.header('Cache-Control', 'no-store')
    return await answerCredentialRequest(exchangeDeps(request.id), request.params.token, request.body)
  })

  function exchangeDeps (requestId: string): ExchangeDeps {
    return {
      sql: app.sql,
      keyRing: app.keyRing,
      urls: app.urls,
      now: app.clock(),
      actor: 'wallet',
      statusLists: app.statusListPolicy,
      outbox: app.outbox,
      requestId,
      dataIntegrity: app.dataIntegrity,
      changes: app.changes,
      baseUrl: app.config.publicBaseUrl
    }
  }
}
