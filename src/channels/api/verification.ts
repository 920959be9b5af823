import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { findSignedVersion } from '../../capabilities/credentials/store.js'
import { BakingError, extractFromPng } from '../../capabilities/bake/png.js'
import { extractFromSvg } from '../../capabilities/bake/svg.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { parseUntrustedJson } from '../../infrastructure/http/json-body.js'
import { dateTime, problems, timestamp } from '../../infrastructure/http/common-schemas.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { LIMITS } from '../../capabilities/verification/limits.js'
import { isCompactJws } from '../../capabilities/verification/parse-input.js'
import { isCredentialLink, readCredentialLink, type ReadCredentialLink } from '../../capabilities/verification/credential-link.js'
import { FetchRefusedError } from '../../capabilities/verification/fetch-credential-url.js'
import type { CheckId } from '../../capabilities/verification/result.js'
import { CHECK_IDS, verifyCredential } from '../../capabilities/verification/verify-credential.js'

/**
 * Names W3C VC API clients use in `options.checks`, mapped to our check ids.
 * Every check always runs (a verifier that skipped one could not say
 * "valid"); asking for one only makes sure it is in the answer.
 */
const CHECK_ALIASES: Record<string, CheckId> = {
  ...Object.fromEntries(CHECK_IDS.map((id) => [id, id])),
  credentialStatus: 'status',
  expiration: 'validity_period',
  validFrom: 'validity_period',
  validUntil: 'validity_period',
  issuer: 'key_binding'
}

const verifyBody = {
  examples: [{ verifiableCredential: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2lnbmF0dXJl', options: { checks: ['proof'], at: '2027-01-15T00:00:00Z' } }],
  type: 'object',
  additionalProperties: false,
  required: ['verifiableCredential'],
  properties: {
    // Deliberately unconstrained beyond object-or-string: the credential is
    // judged by the verifier, never reshaped or rejected by the route's ajv.
    verifiableCredential: {
      oneOf: [
        { type: 'object', description: 'The credential: JSON-LD, or an EnvelopedVerifiableCredential' },
        { type: 'string', description: 'A compact VC-JWT (or an Open Badges 2.0 JWS), or the credential\'s https URL: fetched through the service\'s outbound client (public addresses only, no redirects, 5 s, 256 KiB; this service\'s own links are read from its database), then verified' }
      ]
    },
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        at: dateTime,
        checks: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 64 } },
        challenge: { type: 'string', maxLength: 1024 },
        domain: { anyOf: [{ type: 'string', maxLength: 1024 }, { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 1024 } }] }
      }
    }
  }
} as const

const stringProperties = <const K extends readonly string[]>(...keys: K): { [P in K[number]]: { type: 'string' } } =>
  Object.fromEntries(keys.map((key) => [key, { type: 'string' }])) as { [P in K[number]]: { type: 'string' } }

/** The verification result document (capabilities/verification/result.ts), the contract of both routes. */
const verificationResultProperties = {
  verified: { type: 'boolean', description: 'True only when status is "valid"' },
  status: { type: 'string', enum: ['valid', 'expired', 'not_yet_valid', 'revoked', 'superseded', 'invalid', 'unverified_issuer', 'indeterminate'], description: 'Derived from the checks, never set by hand' },
  expired: { type: 'boolean' },
  revoked: { type: 'boolean' },
  notice: { type: 'string', description: 'What a person should be told, when it is not simply valid' },
  currentVersion: {
    type: 'object',
    description: 'Set when the credential checked is not the current version of one of this service\'s credentials',
    additionalProperties: false,
    required: ['url', 'version'],
    properties: {
      url: { type: 'string' },
      version: { type: 'integer' },
      supersededAt: { ...timestamp, description: 'When a correction replaced the version checked' },
      renewedAt: { ...timestamp, description: 'When a recertification replaced the version checked (its status bit stays clear: it is left to expire)' }
    }
  },
  recognisedIssuer: {
    type: 'object',
    description: 'The registry entry that recognised a foreign issuer: set only when the key binding passed because of it (GET /api/v1/registry/issuers/{entryId})',
    additionalProperties: false,
    required: ['entryId', 'name'],
    properties: { entryId: { type: 'string' }, name: { type: 'string' } }
  },
  checks: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'result', 'message'],
      properties: {
        id: { type: 'string', enum: CHECK_IDS },
        result: { type: 'string', enum: ['passed', 'failed', 'unknown'] },
        message: { type: 'string' },
        reason: { type: 'string', enum: ['expired', 'not_yet_valid', 'revoked', 'superseded', 'suspended', 'self_asserted'] }
      }
    }
  },
  credential: {
    type: 'object',
    description: 'What the credential says about itself (as far as it could be read)',
    additionalProperties: false,
    properties: {
      ...stringProperties('id', 'validFrom', 'validUntil'),
      issuer: { type: 'object', additionalProperties: false, properties: stringProperties('id', 'name') },
      achievement: { type: 'object', additionalProperties: false, properties: stringProperties('id', 'name', 'achievementType') },
      recipient: { type: 'object', additionalProperties: false, properties: stringProperties('name') }
    }
  },
  checkedAt: timestamp,
  errors: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'message'], properties: { id: { type: 'string', enum: CHECK_IDS }, message: { type: 'string' } } } },
  warnings: { type: 'array', items: { type: 'string' } }
} as const
const verificationResultRequired = ['verified', 'status', 'expired', 'revoked', 'checks', 'credential', 'checkedAt', 'errors', 'warnings'] as const

export const verificationResult = { type: 'object', additionalProperties: false, required: verificationResultRequired, properties: verificationResultProperties } as const

/** POST /credentials/verify also echoes what was asked. */
const verifyAnswer = {
  type: 'object',
  additionalProperties: false,
  required: [...verificationResultRequired, 'options'],
  properties: {
    ...verificationResultProperties,
    options: {
      type: 'object',
      description: 'What was asked: every check runs whatever the request names',
      additionalProperties: false,
      required: ['checks'],
      properties: {
        checks: { type: 'array', items: { type: 'string' } },
        at: { type: 'string' },
        challenge: { type: 'string' },
        domain: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }
      }
    }
  }
} as const

/**
 * Public verification: POST a credential (JSON-LD object, compact VC-JWT or
 * EnvelopedVerifiableCredential) or ask about a stored one. A credential that
 * was examined and is not valid is a 422 with the same result document; only
 * a malformed request is a 400.
 */
export async function verificationRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  // A baked badge image as the body: the credential inside it is what is verified.
  const bakedImageParser = (extract: (body: Buffer) => string | undefined) => (_request: unknown, body: Buffer, done: (error: Error | null, value?: unknown) => void): void => {
    try {
      const text = extract(body)?.trim()
      if (text === undefined || text === '') throw new AppError('validation_failed', 'The image has no credential baked in it (no "openbadgecredential" iTXt chunk or <openbadges:credential> element).')
      done(null, { verifiableCredential: text.startsWith('{') ? parseUntrustedJson(text) : text })
    } catch (error) {
      done(error instanceof BakingError ? new AppError('validation_failed', error.message) : error as Error)
    }
  }
  app.addContentTypeParser('image/png', { parseAs: 'buffer' }, bakedImageParser(extractFromPng))
  app.addContentTypeParser('image/svg+xml', { parseAs: 'buffer' }, bakedImageParser((body) => extractFromSvg(body.toString('utf8'))))

  /** A credential given by its link, read or fetched (capabilities/verification/credential-link.ts). */
  const readLink = async (url: string): Promise<ReadCredentialLink> => {
    try {
      return await readCredentialLink(url, { sql: app.sql, publicBaseUrl: app.config.publicBaseUrl, allowLoopback: app.config.outbound.allowLoopback })
    } catch (error) {
      if (error instanceof FetchRefusedError) throw new AppError('credential_link_unreadable', error.message, { url })
      throw error
    }
  }

  app.post('/credentials/verify', {
    config: perMinute(app.config.rateLimits.verifyPerMinute),
    schema: {
      summary: 'Verify a credential: JSON-LD, VC-JWT, enveloped, its https URL, or a baked PNG/SVG body',
      tags: [TAG.verification],
      body: verifyBody,
      response: {
        200: { description: 'Examined and found valid', ...verifyAnswer },
        422: { description: 'Examined and found not valid: the same document, with `verified: false` and each check\'s reason', ...verifyAnswer }
      }
    },
    bodyLimit: LIMITS.bodyBytes
  }, async (request, reply) => {
    const body = request.body
    const credential = body.verifiableCredential
    const link = typeof credential === 'string' && isCredentialLink(credential) ? await readLink(credential) : undefined
    if (link === undefined && typeof credential === 'string' && !isCompactJws(credential)) {
      throw new AppError('validation_failed', '"verifiableCredential" must be a credential object, a compact JWS (header.payload.signature) or an https URL.')
    }
    const options = body.options ?? {}
    let at: Date | undefined
    if (options.at !== undefined) {
      at = new Date(options.at)
      if (Number.isNaN(at.getTime())) throw new AppError('validation_failed', '"options.at" must be an RFC 3339 date-time.')
    }
    const unknownChecks = (options.checks ?? []).filter((name) => CHECK_ALIASES[name] === undefined)
    if (unknownChecks.length > 0) {
      throw new AppError('validation_failed', `"options.checks" names checks this verifier does not know: ${unknownChecks.map((c) => `"${c}"`).join(', ')}. Known: ${Object.keys(CHECK_ALIASES).map((c) => `"${c}"`).join(', ')}.`)
    }
    const result = await verifyCredential(link?.credential ?? credential, { ...app.verifier, now: app.clock() }, { ...(at !== undefined ? { at } : {}), ...(link?.fetchedFrom !== undefined ? { fetchedFrom: link.fetchedFrom } : {}) })
    app.metrics.verification(result.status, 'api')
    request.verified = { ...(result.credential.id !== undefined ? { credentialId: result.credential.id } : {}), fromImage: /^image\/(png|svg\+xml)/.test(request.headers['content-type'] ?? '') }
    const warnings = [...result.warnings]
    if (options.challenge !== undefined || options.domain !== undefined) {
      warnings.push('"challenge" and "domain" bind a verifiable presentation; a bare credential carries neither, so they were not checked.')
    }
    request.log.info({ credentialId: result.credential.id, status: result.status }, 'credential verified')
    return await reply.code(result.verified ? 200 : 422).send({
      ...result,
      warnings,
      // What was asked, echoed: every check runs whatever the request names, so all of these are in `checks`.
      options: {
        checks: options.checks ?? [...CHECK_IDS],
        ...(options.at !== undefined ? { at: options.at } : {}),
        ...(options.challenge !== undefined ? { challenge: options.challenge } : {}),
        ...(options.domain !== undefined ? { domain: options.domain } : {})
      }
    })
  })

  app.get('/credentials/:id/verification', {
    config: perMinute(app.config.rateLimits.verifyPerMinute),
    schema: {
      summary: 'The verification result of a stored credential (always 200)',
      tags: [TAG.verification],
      params: idParams,
      response: { 200: { description: 'The result, whatever it says (a revoked credential is status "revoked")', ...verificationResult }, ...problems(404) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const stored = await findSignedVersion(app.sql, id)
    if (stored === undefined) throw notFound(`Credential "${id}"`)
    // The stored text is exactly what was signed; parse it only here, never re-serialise it first.
    const result = await verifyCredential(JSON.parse(stored.document) as unknown, { ...app.verifier, now: app.clock() })
    app.metrics.verification(result.status, 'stored')
    return await reply.code(200).send(result)
  })
}
