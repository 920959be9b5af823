import type { FastifyInstance } from 'fastify'
import { findCredentialDocument } from '../credentials/store.js'
import { AppError, notFound } from '../errors.js'
import { idParams } from '../http/id-params.js'
import { databaseSources } from './database-sources.js'
import { isCompactJws } from './parse-input.js'
import { verifyCredential } from './verify-credential.js'

const verifyBody = {
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
      properties: { at: { type: 'string', format: 'date-time' } }
    }
  }
} as const

interface VerifyBody { verifiableCredential: Record<string, unknown> | string, options?: { at?: string } }

/**
 * Public verification: POST a credential (JSON-LD object, compact VC-JWT or
 * EnvelopedVerifiableCredential) or ask about a stored one. A credential that
 * was examined and is not valid is a 422 with the same result document; only
 * a malformed request is a 400.
 */
export async function verificationRoutes (app: FastifyInstance): Promise<void> {
  const sources = databaseSources(app.sql, app.urls)

  app.post('/credentials/verify', { schema: { body: verifyBody }, bodyLimit: 1024 * 1024 }, async (request, reply) => {
    const body = request.body as VerifyBody
    const credential = body.verifiableCredential
    if (typeof credential === 'string' && !isCompactJws(credential)) {
      throw new AppError('validation_failed', '"verifiableCredential" must be a credential object or a compact JWS (header.payload.signature).')
    }
    let at: Date | undefined
    if (body.options?.at !== undefined) {
      at = new Date(body.options.at)
      if (Number.isNaN(at.getTime())) throw new AppError('validation_failed', '"options.at" must be an RFC 3339 date-time.')
    }
    const result = await verifyCredential(credential, { now: app.clock(), sources }, at === undefined ? {} : { at })
    request.log.info({ credentialId: result.credential.id, status: result.status }, 'credential verified')
    return await reply.code(result.verified ? 200 : 422).send(result)
  })

  app.get('/credentials/:id/verification', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const stored = await findCredentialDocument(app.sql, id)
    if (stored === undefined) throw notFound(`Credential "${id}"`)
    // The stored text is exactly what was signed; parse it only here, never re-serialise it first.
    const result = await verifyCredential(JSON.parse(stored.document) as unknown, { now: app.clock(), sources })
    return await reply.code(200).send(result)
  })
}
