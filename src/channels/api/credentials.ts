import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { AppError, notFound } from '../../kernel/errors.js'
import { negotiate } from '../../infrastructure/http/content-negotiation.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { issueBatch, itemsFromCsv } from '../../capabilities/credentials/issue/batch.js'
import { withExactDates } from '../../capabilities/credentials/issue/issue-dates.js'
import { normaliseEmail } from '../../capabilities/credentials/build-credential.js'
import { issueCredential, type IssuedCredential } from '../../capabilities/credentials/issue/issue-credential.js'
import { correctCredential, recertifyCredential } from '../../capabilities/credentials/recertify/reissue-credential.js'
import { endSessionsOfPreviousAddress } from '../../capabilities/holders/store.js'
import { revokeCredential, type Revocation } from '../../capabilities/credentials/revoke/revoke-credential.js'
import { batchBody, credentialIdParams, issueCredentialBody, listCredentialsQuery, recertifyBody, reissueBody, revokeBody, versionParams } from '../../capabilities/credentials/schemas.js'
import { findCredential, findSignedVersion, listVersions, queryCredentials, type CredentialRow, type SignedVersionRow, type VersionRow } from '../../capabilities/credentials/store.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { bodyOf, htmlPage, locationHeader, noBody, nullableString, nullableTimestamp, problems, signedDocument, timestamp } from '../../infrastructure/http/common-schemas.js'

export type VersionState = 'current' | 'superseded' | 'revoked'

/**
 * The signed credential inside a JSON envelope. Typeless on purpose: the
 * serializer writes it with JSON.stringify, exactly as it was signed, where a
 * schema naming its properties would drop or reorder some.
 */
const signedCredential = signedDocument('The OpenBadgeCredential exactly as signed (Data Integrity proof); the 1EdTech OB 3.0 schema describes it')

const versionSummarySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'url', 'kind', 'state', 'validFrom', 'validUntil', 'issuedAt'],
  properties: {
    version: { type: 'integer' },
    url: { type: 'string', description: 'This version, byte for byte, for life' },
    kind: { type: 'string', enum: ['issue', 'correction', 'recertification', 'resign', 'wallet'], description: 'wallet: the same credential delivered to a holder\'s wallet, its subject the wallet\'s DID' },
    state: { type: 'string', enum: ['current', 'superseded', 'revoked'] },
    validFrom: timestamp,
    validUntil: nullableTimestamp,
    issuedAt: timestamp,
    supersededAt: timestamp
  }
} as const

/** A new version as issued: the signed credential and the VC-JWT of the same document. */
const issuedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'version', 'credential', 'jwt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string', description: 'The credential\'s URL: its id, for life' },
    version: { type: 'integer' },
    credential: signedCredential,
    jwt: { type: 'string', description: 'The same credential as a VC-JWT' }
  }
} as const

const credentialRecordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'badgeId', 'achievementId', 'recipientName', 'recipientEmail', 'certificateNumber', 'version', 'validFrom', 'validUntil', 'awardedDate', 'issuedAt', 'issuedBy', 'revocation', 'versions', 'credential', 'jwt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    badgeId: { type: 'string' },
    achievementId: { type: 'string' },
    recipientName: { type: 'string' },
    recipientEmail: { type: 'string' },
    certificateNumber: { type: ['string', 'null'], description: 'The body\'s certificate or member number, when given at issue' },
    version: { type: 'integer', description: 'The current version' },
    validFrom: timestamp,
    validUntil: nullableTimestamp,
    awardedDate: nullableTimestamp,
    issuedAt: timestamp,
    issuedBy: { type: 'string' },
    revocation: { type: ['object', 'null'], additionalProperties: false, required: ['revokedAt', 'revokedBy', 'reason'], properties: { revokedAt: timestamp, revokedBy: nullableString, reason: nullableString } },
    versions: { type: 'array', items: versionSummarySchema },
    credential: signedCredential,
    jwt: { type: 'string', description: 'The current version as a VC-JWT' }
  }
} as const

const credentialListItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'achievementId', 'recipientName', 'recipientEmail', 'version', 'status', 'validUntil', 'issuedAt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    achievementId: { type: 'string' },
    recipientName: { type: 'string' },
    recipientEmail: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string', enum: ['valid', 'expired', 'revoked'] },
    validUntil: nullableTimestamp,
    issuedAt: timestamp
  }
} as const

const revocationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'revoked', 'revokedAt', 'revokedBy', 'reason'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    revoked: { type: 'boolean', enum: [true] },
    revokedAt: timestamp,
    revokedBy: { type: 'string' },
    reason: { type: 'string' }
  }
} as const

const batchResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'results'],
  properties: {
    summary: {
      type: 'object',
      additionalProperties: false,
      required: ['total', 'created', 'failed'],
      properties: { total: { type: 'integer' }, created: { type: 'integer' }, failed: { type: 'integer' } }
    },
    results: {
      type: 'array',
      description: 'One per item, in input order: the issued credential, or the item\'s problem',
      // if/then/else rather than anyOf: the serializer picks by the test alone, where anyOf would have it validate
      // each result against both schemas and fail the whole answer (after issuing) on any surprise.
      items: { if: { type: 'object', required: ['jwt'] }, then: issuedSchema, else: { $ref: 'Problem#' } }
    }
  }
} as const

const versionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'currentVersion', 'versions'],
  properties: {
    id: { type: 'string', description: 'The credential\'s URL' },
    currentVersion: { type: 'integer' },
    versions: { type: 'array', items: versionSummarySchema }
  }
} as const

/** A version's state: revoked when the credential was revoked while it was live; superseded once a newer version exists. */
export function versionState (credential: CredentialRow, version: VersionRow): VersionState {
  if (credential.revokedAt !== null && (version.supersededAt === null || version.supersededAt > credential.revokedAt)) return 'revoked'
  return version.version === credential.currentVersion ? 'current' : 'superseded'
}

function versionSummary (credential: CredentialRow, version: VersionRow, urls: PublicUrls): FromSchema<typeof versionSummarySchema> {
  return {
    version: version.version,
    url: urls.credentialVersion(credential.id, version.version),
    kind: version.kind,
    state: versionState(credential, version),
    validFrom: version.validFrom.toISOString(),
    validUntil: version.validUntil?.toISOString() ?? null,
    issuedAt: version.issuedAt.toISOString(),
    ...(version.supersededAt !== null ? { supersededAt: version.supersededAt.toISOString() } : {})
  }
}

function credentialRecord (row: CredentialRow, current: SignedVersionRow, versions: VersionRow[], urls: PublicUrls): FromSchema<typeof credentialRecordSchema> {
  return {
    id: row.id,
    url: urls.credential(row.id),
    badgeId: row.badgeId,
    achievementId: row.achievementId,
    recipientName: row.recipientName,
    recipientEmail: row.recipientEmail,
    certificateNumber: row.certificateNumber,
    version: row.currentVersion,
    validFrom: current.validFrom.toISOString(),
    validUntil: current.validUntil?.toISOString() ?? null,
    awardedDate: row.awardedDate?.toISOString() ?? null,
    issuedAt: row.issuedAt.toISOString(),
    issuedBy: row.issuedBy,
    revocation: row.revokedAt === null ? null : { revokedAt: row.revokedAt.toISOString(), revokedBy: row.revokedBy, reason: row.revocationReason },
    versions: versions.map((v) => versionSummary(row, v, urls)),
    credential: JSON.parse(current.document) as unknown,
    jwt: current.jwt
  }
}

function credentialListItem (row: CredentialRow, urls: PublicUrls, now: Date): FromSchema<typeof credentialListItemSchema> {
  const state = row.revokedAt !== null ? 'revoked' : row.currentValidUntil !== null && row.currentValidUntil <= now ? 'expired' : 'valid'
  return {
    id: row.id,
    url: urls.credential(row.id),
    achievementId: row.achievementId,
    recipientName: row.recipientName,
    recipientEmail: row.recipientEmail,
    version: row.currentVersion,
    status: state,
    validUntil: row.currentValidUntil?.toISOString() ?? null,
    issuedAt: row.issuedAt.toISOString()
  }
}

function revocationResponse (revocation: Revocation, url: string): FromSchema<typeof revocationSchema> {
  return { id: revocation.id, url, revoked: true, revokedAt: revocation.revokedAt.toISOString(), revokedBy: revocation.revokedBy, reason: revocation.reason }
}

/**
 * 201 with the new version. The envelope is held to its schema (issuedSchema);
 * the signed credential in it is typeless there, so it is written by
 * JSON.stringify exactly as signed.
 */
async function sendNewVersion (reply: FastifyReply, urls: PublicUrls, issued: IssuedCredential): Promise<FastifyReply> {
  return await reply.code(201).header('Location', issued.version === 1 ? issued.url : urls.credentialVersion(issued.id, issued.version))
    .type('application/json; charset=utf-8').send(issued)
}

/** 1,000 rows of CSV or JSON items fit well inside this. */
const BATCH_BODY_LIMIT = 2 * 1024 * 1024

/** Staff routes, registered under /api/v1 behind bearer auth. */
export async function credentialStaffRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const versionDeps = (request: { id: string, staff?: unknown }, actor: string): Parameters<typeof issueCredential>[0] =>
    ({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes })

  app.post('/credentials', {
    schema: {
      summary: 'Issue a credential (version 1 of a new credential URL)',
      tags: [TAG.staffCredentials],
      body: issueCredentialBody,
      response: {
        201: { description: 'Issued: the signed credential and its VC-JWT', headers: locationHeader, ...issuedSchema },
        ...problems([409, 'The recipient already holds a current credential of this achievement (duplicate_credential, with "existing")'], [422, 'Unknown achievement, invalid validity period, or a credential that would not pass the OB 3.0 schema'])
      }
    },
    config: { scope: 'credentials:issue' }
  }, async (request, reply) => {
    // A date alone (2026-12-04) is the whole day: issue/issue-dates.ts.
    const issued = await issueCredential(versionDeps(request, staffOf(request).actor), withExactDates(request.body))
    request.log.info({ credentialId: issued.id }, 'credential issued')
    return await sendNewVersion(reply, app.urls, issued)
  })

  // Spreadsheets arrive as CSV; parsed as text here, read as rows in batch.ts.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: BATCH_BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.post('/credentials/batch', {
    schema: {
      summary: 'Issue up to 1,000 credentials (JSON items or CSV); 207 with a result per item',
      tags: [TAG.staffCredentials],
      body: batchBody,
      querystring: { type: 'object', additionalProperties: false, properties: { notify: { type: 'string', enum: ['true', 'false'] } } },
      response: { 207: { description: 'Every item\'s outcome: an item refused for its own reason never sinks the others', ...batchResultSchema } }
    },
    bodyLimit: BATCH_BODY_LIMIT,
    config: { scope: 'credentials:issue' }
  }, async (request, reply) => {
    const body = request.body
    // A CSV's problems name its rows as a spreadsheet numbers them; a JSON batch's its items.
    const { items, rows } = typeof body === 'string' ? itemsFromCsv(body) : { items: body.items, rows: undefined }
    // notify: false in the JSON body, or ?notify=false with a CSV, silences the whole batch's emails.
    const notify = typeof body === 'string' ? request.query.notify !== 'false' : body.notify !== false
    const started = performance.now()
    const results = await issueBatch({ ...versionDeps(request, staffOf(request).actor), clock: app.clock, log: request.log, notify }, items, { ...(rows !== undefined ? { csvRows: rows } : {}) })
    const created = results.filter((r) => !('type' in r)).length
    request.log.info({ items: items.length, created, ms: Math.round(performance.now() - started) }, 'batch issued')
    // A result is an issued credential or a problem document; the schema's Problem is a $ref, which the derived type cannot follow.
    const answer = { summary: { total: items.length, created, failed: items.length - created }, results } as FromSchema<typeof batchResultSchema>
    return await reply.code(207).type('application/json; charset=utf-8').send(answer)
  })

  app.get('/credentials', {
    schema: {
      summary: 'Find credentials by achievement, email, status, expiry window',
      tags: [TAG.staffCredentials],
      querystring: listCredentialsQuery,
      response: {
        200: {
          description: 'A page of credentials; `next` is the `after` of the next page (null on the last)',
          type: 'object',
          additionalProperties: false,
          required: ['items', 'next'],
          properties: { items: { type: 'array', items: credentialListItemSchema }, next: nullableString }
        }
      }
    },
    config: { scope: 'credentials:read' }
  }, async (request) => {
    const query = request.query
    const limit = query.limit ?? 100
    const now = app.clock()
    const rows = await queryCredentials(app.sql, {
      now,
      limit,
      ...(query.achievementId !== undefined ? { achievementId: query.achievementId } : {}),
      ...(query.email !== undefined ? { email: normaliseEmail(query.email) } : {}),
      ...(query.status !== undefined ? { state: query.status } : {}),
      ...(query.expiresAfter !== undefined ? { expiresAfter: new Date(query.expiresAfter) } : {}),
      ...(query.expiresBefore !== undefined ? { expiresBefore: new Date(query.expiresBefore) } : {}),
      ...(query.after !== undefined ? { after: query.after } : {})
    })
    const last = rows.at(-1)
    return { items: rows.map((row) => credentialListItem(row, app.urls, now)), next: rows.length === limit && last !== undefined ? last.id : null }
  })

  app.get('/credentials/:id', {
    schema: {
      summary: 'A credential\'s record: versions, revocation, current documents',
      tags: [TAG.staffCredentials],
      params: credentialIdParams,
      response: { 200: { description: 'The record, with the current version signed and as a VC-JWT', ...credentialRecordSchema }, ...problems(404) }
    },
    config: { scope: 'credentials:read' }
  }, async (request) => {
    const { id } = request.params
    const row = await findCredential(app.sql, id)
    const current = row === undefined ? undefined : await findSignedVersion(app.sql, id)
    if (row === undefined || current === undefined) throw notFound(`Credential "${id}"`)
    return credentialRecord(row, current, await listVersions(app.sql, id), app.urls)
  })

  app.post('/credentials/:id/revoke', {
    schema: {
      summary: 'Revoke a credential (every live version)',
      tags: [TAG.staffCredentials],
      params: credentialIdParams,
      body: revokeBody,
      response: { 200: { description: 'Revoked (or already revoked: the first revocation stands)', ...revocationSchema }, ...problems(404) }
    },
    config: { scope: 'credentials:revoke' }
  }, async (request) => {
    const { id } = request.params
    const revocation = await revokeCredential(
      { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes },
      id,
      (request.body).reason
    )
    if (!revocation.alreadyRevoked) request.log.info({ credentialId: id }, 'credential revoked')
    return revocationResponse(revocation, app.urls.credential(id))
  })

  // A correction and a recertification are one request: a new version of one credential, made for a reason.
  type NewVersionRequest = { reason: 'correction', body: Parameters<typeof correctCredential>[2] } | { reason: 'recertification', body: Parameters<typeof recertifyCredential>[2] }
  const newVersion = async (request: FastifyRequest, reply: FastifyReply, id: string, asked: NewVersionRequest): Promise<FastifyReply> => {
    const deps = versionDeps(request, staffOf(request).actor)
    const issued = asked.reason === 'correction'
      // The portal follows the address: sessions signed in as the old one end (the holder signs in with the new one).
      ? await correctCredential({ ...deps, onRecipientEmailChanged: endSessionsOfPreviousAddress(deps.now) }, id, asked.body)
      : await recertifyCredential(deps, id, asked.body)
    request.log.info({ credentialId: id, version: issued.version }, asked.reason === 'correction' ? 'credential corrected' : 'credential recertified')
    return await sendNewVersion(reply, app.urls, issued)
  }

  app.post('/credentials/:id/reissue', {
    schema: {
      summary: 'Correct the recipient\'s name or email: a new version under the same URL',
      tags: [TAG.staffCredentials],
      params: credentialIdParams,
      body: reissueBody,
      response: {
        201: { description: 'The new version (Location: its version URL)', headers: locationHeader, ...issuedSchema },
        ...problems(404, [409, 'The credential is revoked, or the correction changes nothing'], 422)
      }
    },
    config: { scope: 'credentials:reissue' }
  }, async (request, reply) => await newVersion(request, reply, request.params.id, { reason: 'correction', body: request.body }))

  app.post('/credentials/:id/recertify', {
    schema: {
      summary: 'Recertify by exam or continuing education, under the achievement\'s rules',
      tags: [TAG.staffCredentials],
      params: credentialIdParams,
      body: recertifyBody,
      response: {
        201: { description: 'The new version (Location: its version URL)', headers: locationHeader, ...issuedSchema },
        ...problems(404, [409, 'The credential is revoked'], [422, 'The achievement\'s rules refuse it (recertification_refused, with "rule")'])
      }
    },
    config: { scope: 'credentials:reissue' }
  }, async (request, reply) => await newVersion(request, reply, request.params.id, { reason: 'recertification', body: request.body }))
}

// JSON-LD first: a client that sends no Accept (curl) or */* gets the signed
// document. text/html last: a browser's Accept ranks it above its */*;q=0.8.
// text/plain: the compact JWS as the Open Badges API and OB 3.0 serve it (after the HTML page, so a browser's Accept gets the page).
const CREDENTIAL_MEDIA_TYPES = ['application/ld+json', 'application/vc+ld+json', 'application/vc', 'application/json', 'application/vc+jwt', 'application/jwt', 'text/html', 'text/plain'] as const

/** A version as served from the document cache: the signed bytes and what names them. */
export interface ServedVersion { credentialId: string, version: number, document: string, jwt: string, bytes: number }

/** A signed version in each representation: the JSON-LD and JWT texts as stored, or the holder's page. */
const signedVersionResponse = (description: string): ReturnType<typeof bodyOf> => ({
  description,
  content: {
    ...Object.fromEntries(CREDENTIAL_MEDIA_TYPES.filter((type) => type.endsWith('json')).map((type) => [type, { schema: signedCredential }])),
    ...bodyOf('', ['application/vc+jwt', 'application/jwt', 'text/plain'], { type: 'string', description: 'The VC-JWT (compact JWS)' }).content,
    ...htmlPage('').content
  }
})

const served = (row: SignedVersionRow): ServedVersion =>
  ({ credentialId: row.credentialId, version: row.version, document: row.document, jwt: row.jwt, bytes: row.document.length + row.jwt.length + 200 })

async function sendSignedVersion (reply: FastifyReply, type: string, version: ServedVersion, cache: string): Promise<FastifyReply> {
  const jwt = type === 'application/vc+jwt' || type === 'application/jwt' || type === 'text/plain'
  // Strong: a version's bytes never change. The representation is part of it (Vary: Accept).
  const etag = `"${version.credentialId}-v${version.version}-${type === 'text/plain' ? 'jws' : jwt ? 'jwt' : 'ld'}"`
  void reply.header('Cache-Control', cache).header('ETag', etag)
  const ifNoneMatch = reply.request.headers['if-none-match']
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').map((tag) => tag.trim()).includes(etag)) return await reply.code(304).send()
  if (type === 'text/plain') return await reply.type('text/plain; charset=utf-8').send(version.jwt)
  if (jwt) return await reply.type(type).send(version.jwt)
  return await reply.type(`${type}; charset=utf-8`).send(version.document)
}

/**
 * The public credential URL: one URL for life. It serves the current version
 * (JSON-LD or VC-JWT by Accept) and is also the credential's refreshService;
 * every version stays reachable byte for byte under /versions/{n}.
 */
export async function credentialPublicRoutes (fastify: FastifyInstance): Promise<void> {
  // Request types come from the route schemas (json-schema-to-ts): no casts in handlers.
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  // The HTML page is the holder pages' (registered with the app), asked for at request time.
  const sendPage = async (reply: FastifyReply, id: string, version?: number): Promise<FastifyReply> => {
    const page = app.representations.credentialPage
    if (page === undefined) throw new AppError('not_acceptable', 'This service serves no HTML page for credentials.')
    return await page(reply, id, version)
  }
  // Every answer of these routes depends on Accept (the 406 and 404 included): caches must key on it,
  // and on nothing else: CORS answers every origin the same here (Access-Control-Allow-Origin: *),
  // so the Origin that the CORS plugin adds would only split a CDN's cache.
  app.addHook('onSend', async (_request, reply, payload) => {
    const vary = reply.getHeader('Vary')
    const names = (vary === undefined ? [] : String(vary).split(',')).map((name) => name.trim()).filter((name) => name !== '' && name.toLowerCase() !== 'origin' && name.toLowerCase() !== 'accept')
    void reply.header('Vary', [...names, 'Accept'].join(', '))
    return payload
  })
  const negotiated = (accept: string | undefined): string => {
    const type = negotiate(accept, CREDENTIAL_MEDIA_TYPES)
    if (type === undefined) throw new AppError('not_acceptable', `This credential is available as ${CREDENTIAL_MEDIA_TYPES.join(', ')}.`)
    return type
  }

  app.get('/credentials/:id', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'The current version: signed JSON-LD, VC-JWT or the holder\'s page, by Accept',
      tags: [TAG.credentials],
      params: credentialIdParams,
      response: { 200: signedVersionResponse('The current version (ETag; Cache-Control: no-cache)'), 304: noBody('Not modified: the If-None-Match ETag is current'), ...problems(404, 406) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const type = negotiated(request.headers.accept)
    if (type === 'text/html') return await sendPage(reply, id)
    // From memory when it can: a new version announces itself (caching/change-feed.ts).
    const current = await app.documents.credentials.read(`credential:${id}`, async () => {
      const row = await findSignedVersion(app.sql, id)
      return row === undefined ? undefined : served(row)
    })
    if (current === undefined) throw notFound(`Credential "${id}"`)
    return await sendSignedVersion(reply, type, current, 'no-cache')
  })

  app.get('/credentials/:id/versions', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'Every version of a credential, with its state',
      tags: [TAG.credentials],
      params: credentialIdParams,
      response: { 200: { description: 'The versions, oldest first', ...versionsSchema }, ...problems(404) }
    }
  }, async (request) => {
    const { id } = request.params
    const row = await findCredential(app.sql, id)
    if (row === undefined) throw notFound(`Credential "${id}"`)
    const versions = await listVersions(app.sql, id)
    return { id: app.urls.credential(id), currentVersion: row.currentVersion, versions: versions.map((v) => versionSummary(row, v, app.urls)) }
  })

  app.get('/credentials/:id/versions/:version', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'One version, byte for byte (or its page)',
      tags: [TAG.credentials],
      params: versionParams,
      response: { 200: signedVersionResponse('The version, byte for byte as signed (immutable)'), 304: noBody('Not modified: the If-None-Match ETag is current'), ...problems(404, 406) }
    }
  }, async (request, reply) => {
    const { id, version } = request.params
    const type = negotiated(request.headers.accept)
    if (type === 'text/html') return await sendPage(reply, id, version)
    // Immutable once signed: cached until evicted, never invalidated.
    const signed = await app.documents.credentials.read(`version:${id}:${version}`, async () => {
      const row = await findSignedVersion(app.sql, id, version)
      return row === undefined ? undefined : served(row)
    })
    if (signed === undefined) throw notFound(`Version ${version} of credential "${id}"`)
    // A version's bytes never change once signed (its page does: the status is live).
    return await sendSignedVersion(reply, type, signed, 'public, max-age=31536000, immutable')
  })
}
