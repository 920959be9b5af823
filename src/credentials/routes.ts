import type { FastifyInstance } from 'fastify'
import { AppError, notFound } from '../errors.js'
import { negotiate } from '../http/content-negotiation.js'
import { requireScope, staffOf } from '../staff-auth/bearer-auth.js'
import { issueCredential } from './issue-credential.js'
import { revokeCredential, type Revocation } from './revoke-credential.js'
import { credentialIdParams, issueCredentialBody, type IssueCredentialBody } from './schemas.js'
import { findCredential, type CredentialRow } from './store.js'

const revokeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } }
} as const

function credentialRecord (row: CredentialRow, url: string): Record<string, unknown> {
  return {
    id: row.id,
    url,
    badgeId: row.badgeId,
    achievementId: row.achievementId,
    recipientName: row.recipientName,
    validFrom: row.validFrom.toISOString(),
    validUntil: row.validUntil?.toISOString() ?? null,
    issuedAt: row.issuedAt.toISOString(),
    issuedBy: row.issuedBy,
    revocation: row.revokedAt === null ? null : { revokedAt: row.revokedAt.toISOString(), revokedBy: row.revokedBy, reason: row.revocationReason },
    credential: JSON.parse(row.document) as unknown,
    jwt: row.jwt
  }
}

function revocationResponse (revocation: Revocation, url: string): Record<string, unknown> {
  return { id: revocation.id, url, revoked: true, revokedAt: revocation.revokedAt.toISOString(), revokedBy: revocation.revokedBy, reason: revocation.reason }
}

/** Staff routes, registered under /api/v1 behind bearer auth. */
export async function credentialStaffRoutes (app: FastifyInstance): Promise<void> {
  app.post('/credentials', {
    schema: { body: issueCredentialBody },
    preHandler: requireScope('credentials:issue')
  }, async (request, reply) => {
    const issued = await issueCredential(
      { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy },
      request.body as IssueCredentialBody
    )
    request.log.info({ credentialId: issued.id }, 'credential issued')
    // The signed credential is serialised as is: no response schema may touch it.
    return await reply.code(201).header('Location', issued.url).type('application/json; charset=utf-8').send(issued)
  })

  app.get('/credentials/:id', {
    schema: { params: credentialIdParams },
    preHandler: requireScope('credentials:read')
  }, async (request) => {
    const { id } = request.params as { id: string }
    const row = await findCredential(app.sql, id)
    if (row === undefined) throw notFound(`Credential "${id}"`)
    return credentialRecord(row, app.urls.credential(id))
  })

  app.post('/credentials/:id/revoke', {
    schema: { params: credentialIdParams, body: revokeBody },
    preHandler: requireScope('credentials:revoke')
  }, async (request) => {
    const { id } = request.params as { id: string }
    const revocation = await revokeCredential(
      { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor },
      id,
      (request.body as { reason: string }).reason
    )
    if (!revocation.alreadyRevoked) request.log.info({ credentialId: id }, 'credential revoked')
    return revocationResponse(revocation, app.urls.credential(id))
  })
}

const CREDENTIAL_MEDIA_TYPES = ['application/ld+json', 'application/vc+ld+json', 'application/vc', 'application/json', 'application/vc+jwt', 'application/jwt'] as const

/** The public credential URL: the signed credential as JSON-LD, or as a VC-JWT. */
export async function credentialPublicRoutes (app: FastifyInstance): Promise<void> {
  app.get('/credentials/:id', { schema: { params: credentialIdParams } }, async (request, reply) => {
    const { id } = request.params as { id: string }
    const type = negotiate(request.headers.accept, CREDENTIAL_MEDIA_TYPES)
    if (type === undefined) throw new AppError('not_acceptable', `This credential is available as ${CREDENTIAL_MEDIA_TYPES.join(', ')}.`)
    const row = await findCredential(app.sql, id)
    if (row === undefined) throw notFound(`Credential "${id}"`)
    void reply.header('Vary', 'Accept').header('Cache-Control', 'no-cache')
    if (type === 'application/vc+jwt' || type === 'application/jwt') return await reply.type(type).send(row.jwt)
    return await reply.type(`${type}; charset=utf-8`).send(row.document)
  })
}
