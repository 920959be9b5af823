import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { issueThroughVcApi, updateStatusThroughVcApi } from '../../capabilities/credentials/issue/vc-api-issuer.js'
import { vcApiIssueBody, vcApiStatusBody } from '../../capabilities/credentials/issue/vc-api-request.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { locationHeader, nullableTimestamp, problems, signedDocument } from '../../infrastructure/http/common-schemas.js'

/**
 * The W3C VC API issuer routes (https://w3c-ccg.github.io/vc-api/, now VCALM)
 * for staff systems, at the paths that API names: POST /credentials/issue and
 * POST /credentials/status. Registered at the root behind the staff bearer
 * auth and Idempotency-Key, as /api/v1 is; thin: the requests are read in
 * capabilities/credentials/issue/vc-api-request.ts and acted on by the
 * service's own issue and revoke use cases (vc-api-issuer.ts).
 */

/** IssueCredentialResponse. The credential is typeless: JSON.stringify writes it exactly as signed. */
const issueCredentialResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['verifiableCredential'],
  properties: {
    verifiableCredential: signedDocument('The OpenBadgeCredential exactly as signed (Data Integrity proof, eddsa-rdfc-2022); its VC-JWT is at its id (the Location) with Accept: application/vc+jwt')
  }
} as const

const statusUpdateResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['credentialId', 'credentialStatus', 'revokedAt', 'changed'],
  properties: {
    credentialId: { type: 'string', description: 'The credential\'s URL' },
    credentialStatus: {
      type: 'array',
      description: 'The credential\'s status entry (its current version\'s), with the status it now has',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'statusPurpose', 'statusListIndex', 'statusListCredential', 'status'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string' },
          statusPurpose: { type: 'string' },
          statusListIndex: { type: 'string' },
          statusListCredential: { type: 'string' },
          status: { type: 'boolean', description: 'true: revoked' }
        }
      }
    },
    revokedAt: nullableTimestamp,
    changed: { type: 'boolean', description: 'false when the credential already had this status (a repeated revocation changes nothing)' }
  }
} as const

export async function vcApiIssuerRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.post('/credentials/issue', {
    schema: {
      summary: 'Issue a credential (W3C VC API IssueCredentialRequest): an unsigned OpenBadgeCredential or the service\'s own issue request',
      description: 'The W3C VC API\'s issue operation on the service\'s own issuing (as POST /api/v1/credentials: the same checks, status list, audit trail, webhooks and holder email). `credential` is an unsigned OpenBadgeCredential naming one of this service\'s achievements (`credentialSubject.achievement.id`), the recipient as `credentialSubject.name` and an unhashed emailAddress `identifier`; or, when it has `achievementId`, the body of POST /api/v1/credentials. What the service would not sign as sent is refused with 400, naming the field. The answer is the Data Integrity credential; its VC-JWT is served at its URL (Location) with Accept: application/vc+jwt.',
      tags: [TAG.vcApi],
      body: vcApiIssueBody,
      response: {
        201: { description: 'Issued (IssueCredentialResponse); Location: the credential\'s URL', headers: locationHeader, ...issueCredentialResponse },
        ...problems(
          [400, 'The request is not valid, or names a field the service would not sign as sent (an id, a different issuer, a property it does not sign): `errors[].path` names it'],
          [409, 'The recipient already holds a current credential of this achievement (duplicate_credential, with "existing"), or the achievement is archived'],
          [422, 'Not one of this service\'s achievements (unknown_achievement), or an invalid validity period']
        )
      }
    },
    config: { scope: 'credentials:issue' }
  }, async (request, reply) => {
    const issued = await issueThroughVcApi({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }, request.body)
    request.log.info({ credentialId: issued.id }, 'credential issued (VC API)')
    return await reply.code(201).header('Location', issued.url).type('application/json; charset=utf-8').send({ verifiableCredential: issued.credential })
  })

  app.post('/credentials/status', {
    schema: {
      summary: 'Update a credential\'s status (W3C VC API UpdateCredentialStatus): revoke it through its status list',
      description: 'Sets the revocation bit of every live version of the credential, through the service\'s own revocation (status list re-signed, audit trail, webhooks). `credentialId` is the credential\'s URL or short id. Both VC API shapes are read: `credentialStatus: [{ type: "BitstringStatusListEntry", status: true }]`, or `credentialStatus: { type, statusPurpose: "revocation" }` with `status: true`. Revocation is permanent: asking for status false of a revoked credential is refused (409 credential_revoked); of a credential that is not revoked, it changes nothing. Only the revocation purpose exists.',
      tags: [TAG.vcApi],
      body: vcApiStatusBody,
      response: {
        200: { description: 'The status is as asked (revoked now, or already)', ...statusUpdateResponse },
        ...problems(
          [400, 'The request is not valid (no status, a purpose other than revocation, an entry that is not the credential\'s): `errors[].path` names the field'],
          [404, 'No such credential'],
          [409, 'The credential is revoked and cannot be un-revoked (credential_revoked)']
        )
      }
    },
    config: { scope: 'credentials:revoke' }
  }, async (request) => {
    const update = await updateStatusThroughVcApi({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }, request.body)
    if (update.changed) request.log.info({ credentialId: update.credentialId }, 'credential revoked (VC API)')
    return update
  })
}
