import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { timestamp } from '../../infrastructure/http/common-schemas.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { LIMITS } from '../../capabilities/verification/limits.js'
import { MAX_PRESENTED_CREDENTIALS, verifyPresentation } from '../../capabilities/verification/verify-presentation.js'
import { verificationResult } from './verification.js'

/** POST /presentations/verify (W3C VC API): a holder's presentation, its proof and each credential in it. */

const verifyBody = {
  examples: [{ verifiablePresentation: { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], holder: 'did:key:z6Mk…', verifiableCredential: [], proof: {} }, options: { challenge: '1f2e3d4c', domain: 'verifier.example.org' } }],
  type: 'object',
  additionalProperties: false,
  required: ['verifiablePresentation'],
  properties: {
    // Only "an object": the presentation (and every credential in it) is judged by the verifier, never reshaped by the route's ajv.
    verifiablePresentation: { type: 'object' },
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        challenge: { type: 'string', minLength: 1, maxLength: 1024, description: 'The proof must carry exactly this challenge' },
        domain: { type: 'string', minLength: 1, maxLength: 1024, description: 'The proof\'s domain must be (or include) this one' }
      }
    }
  }
} as const

const checkList = (ids: readonly string[]) => ({
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'result', 'message'],
    properties: { id: { type: 'string', enum: ids }, result: { type: 'string', enum: ['passed', 'failed', 'unknown'] }, message: { type: 'string' } }
  }
}) as const

const PRESENTATION_CHECKS = ['format', 'proof', 'challenge', 'domain', 'holder_binding'] as const

const presentationAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['verified', 'presentationResult', 'credentialResults', 'checkedAt', 'errors', 'warnings'],
  properties: {
    verified: { type: 'boolean', description: 'True only when the presentation and every credential in it are verified' },
    presentationResult: {
      type: 'object',
      description: 'The presentation itself: its format, proof ("authentication"), challenge, domain and holder',
      additionalProperties: false,
      required: ['verified', 'checks', 'errors', 'warnings'],
      properties: {
        verified: { type: 'boolean' },
        checks: checkList(PRESENTATION_CHECKS),
        errors: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'message'], properties: { id: { type: 'string', enum: PRESENTATION_CHECKS }, message: { type: 'string' } } } },
        warnings: { type: 'array', items: { type: 'string' } }
      }
    },
    credentialResults: { type: 'array', description: 'One result per entry of "verifiableCredential", in order, as POST /credentials/verify answers it', items: verificationResult },
    checkedAt: timestamp,
    errors: { type: 'array', description: 'Every problem, named by where it is ("presentation.challenge", "verifiableCredential[0].proof")', items: { type: 'object', additionalProperties: false, required: ['id', 'message'], properties: { id: { type: 'string' }, message: { type: 'string' } } } },
    warnings: { type: 'array', items: { type: 'string' } }
  }
} as const

export async function presentationRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.post('/presentations/verify', {
    config: perMinute(app.config.rateLimits.verifyPerMinute),
    schema: {
      summary: `Verify a presentation: its holder's proof, challenge and domain, and each credential in it (at most ${MAX_PRESENTED_CREDENTIALS})`,
      tags: [TAG.verification],
      body: verifyBody,
      response: {
        200: { description: 'Examined and verified: the presentation and every credential in it', ...presentationAnswer },
        422: { description: 'Examined and not verified: the same document, with `verified: false` and each check\'s reason', ...presentationAnswer }
      }
    },
    // Several credentials: twice the body of one POST /credentials/verify (the presentation's node limit bounds the work).
    bodyLimit: LIMITS.bodyBytes * 2
  }, async (request, reply) => {
    const { verifiablePresentation, options = {} } = request.body
    const result = await verifyPresentation(verifiablePresentation, { ...app.verifier, now: app.clock() }, options)
    for (const r of result.credentialResults) app.metrics.verification(r.status, 'presentation')
    request.log.info({ verified: result.verified, credentials: result.credentialResults.map((r) => ({ id: r.credential.id, status: r.status })) }, 'presentation verified')
    return await reply.code(result.verified ? 200 : 422).send(result)
  })
}
