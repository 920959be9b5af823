import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { findSignedVersion } from '../../capabilities/credentials/store.js'
import { BakingError, extractFromPng } from '../../capabilities/bake/png.js'
import { extractFromSvg } from '../../capabilities/bake/svg.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { parseUntrustedJson } from '../../infrastructure/http/json-body.js'
import { dateTime } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { LIMITS } from '../../capabilities/verification/limits.js'
import { isCompactJws } from '../../capabilities/verification/parse-input.js'
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
    verifiableCredential: { type: ['object', 'string'] },
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

  app.post('/credentials/verify', { config: perMinute(app.config.rateLimits.verifyPerMinute), schema: { body: verifyBody }, bodyLimit: LIMITS.bodyBytes }, async (request, reply) => {
    const body = request.body
    const credential = body.verifiableCredential
    if (typeof credential === 'string' && !isCompactJws(credential)) {
      throw new AppError('validation_failed', '"verifiableCredential" must be a credential object or a compact JWS (header.payload.signature).')
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
    const result = await verifyCredential(credential, { ...app.verifier, now: app.clock() }, at === undefined ? {} : { at })
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

  app.get('/credentials/:id/verification', { config: perMinute(app.config.rateLimits.verifyPerMinute), schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params
    const stored = await findSignedVersion(app.sql, id)
    if (stored === undefined) throw notFound(`Credential "${id}"`)
    // The stored text is exactly what was signed; parse it only here, never re-serialise it first.
    const result = await verifyCredential(JSON.parse(stored.document) as unknown, { ...app.verifier, now: app.clock() })
    return await reply.code(200).send(result)
  })
}
