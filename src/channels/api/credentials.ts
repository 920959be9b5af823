import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, notFound } from '../../kernel/errors.js'
import { negotiate } from '../../infrastructure/http/content-negotiation.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { issueBatch, itemsFromCsv } from '../../capabilities/credentials/issue/batch.js'
import { normaliseEmail } from '../../capabilities/credentials/build-credential.js'
import { issueCredential, type IssuedCredential } from '../../capabilities/credentials/issue/issue-credential.js'
import { correctCredential, recertifyCredential } from '../../capabilities/credentials/recertify/reissue-credential.js'
import { endSessionsOf } from '../../capabilities/holders/store.js'
import { revokeCredential, type Revocation } from '../../capabilities/credentials/revoke/revoke-credential.js'
import { batchBody, credentialIdParams, issueCredentialBody, listCredentialsQuery, recertifyBody, reissueBody, revokeBody, versionParams } from '../../capabilities/credentials/schemas.js'
import { findCredential, findSignedVersion, listVersions, queryCredentials, type CredentialRow, type SignedVersionRow, type VersionRow } from '../../capabilities/credentials/store.js'
import type { PublicUrls } from '../../kernel/public-urls.js'

export type VersionState = 'current' | 'superseded' | 'revoked'

/** A version's state: revoked when the credential was revoked while it was live; superseded once a newer version exists. */
export function versionState (credential: CredentialRow, version: VersionRow): VersionState {
  if (credential.revokedAt !== null && (version.supersededAt === null || version.supersededAt > credential.revokedAt)) return 'revoked'
  return version.version === credential.currentVersion ? 'current' : 'superseded'
}

function versionSummary (credential: CredentialRow, version: VersionRow, urls: PublicUrls): Record<string, unknown> {
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

function credentialRecord (row: CredentialRow, current: SignedVersionRow, versions: VersionRow[], urls: PublicUrls): Record<string, unknown> {
  return {
    id: row.id,
    url: urls.credential(row.id),
    badgeId: row.badgeId,
    achievementId: row.achievementId,
    recipientName: row.recipientName,
    recipientEmail: row.recipientEmail,
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

function credentialListItem (row: CredentialRow, urls: PublicUrls, now: Date): Record<string, unknown> {
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

function revocationResponse (revocation: Revocation, url: string): Record<string, unknown> {
  return { id: revocation.id, url, revoked: true, revokedAt: revocation.revokedAt.toISOString(), revokedBy: revocation.revokedBy, reason: revocation.reason }
}

/** 201 with the new version. The signed credential is serialised as is: no response schema may touch it. */
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
    schema: { body: issueCredentialBody },
    config: { scope: 'credentials:issue' }
  }, async (request, reply) => {
    const issued = await issueCredential(versionDeps(request, staffOf(request).actor), request.body)
    request.log.info({ credentialId: issued.id }, 'credential issued')
    return await sendNewVersion(reply, app.urls, issued)
  })

  // Spreadsheets arrive as CSV; parsed as text here, read as rows in batch.ts.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: BATCH_BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.post('/credentials/batch', {
    schema: { body: batchBody, querystring: { type: 'object', additionalProperties: false, properties: { notify: { type: 'string', enum: ['true', 'false'] } } } },
    bodyLimit: BATCH_BODY_LIMIT,
    config: { scope: 'credentials:issue' }
  }, async (request, reply) => {
    const body = request.body
    const items = typeof body === 'string' ? itemsFromCsv(body) : body.items
    // notify: false in the JSON body, or ?notify=false with a CSV, silences the whole batch's emails.
    const notify = typeof body === 'string' ? request.query.notify !== 'false' : body.notify !== false
    const started = performance.now()
    const results = await issueBatch({ ...versionDeps(request, staffOf(request).actor), clock: app.clock, log: request.log, notify }, items)
    const created = results.filter((r) => !('type' in r)).length
    request.log.info({ items: items.length, created, ms: Math.round(performance.now() - started) }, 'batch issued')
    return await reply.code(207).type('application/json; charset=utf-8').send({ summary: { total: items.length, created, failed: items.length - created }, results })
  })

  app.get('/credentials', {
    schema: { querystring: listCredentialsQuery },
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
    schema: { params: credentialIdParams },
    config: { scope: 'credentials:read' }
  }, async (request) => {
    const { id } = request.params
    const row = await findCredential(app.sql, id)
    const current = row === undefined ? undefined : await findSignedVersion(app.sql, id)
    if (row === undefined || current === undefined) throw notFound(`Credential "${id}"`)
    return credentialRecord(row, current, await listVersions(app.sql, id), app.urls)
  })

  app.post('/credentials/:id/revoke', {
    schema: { params: credentialIdParams, body: revokeBody },
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
      ? await correctCredential({ ...deps, onRecipientEmailChanged: async (tx, previous) => await endSessionsOf(tx, previous, deps.now) }, id, asked.body)
      : await recertifyCredential(deps, id, asked.body)
    request.log.info({ credentialId: id, version: issued.version }, asked.reason === 'correction' ? 'credential corrected' : 'credential recertified')
    return await sendNewVersion(reply, app.urls, issued)
  }

  app.post('/credentials/:id/reissue', {
    schema: { params: credentialIdParams, body: reissueBody },
    config: { scope: 'credentials:reissue' }
  }, async (request, reply) => await newVersion(request, reply, request.params.id, { reason: 'correction', body: request.body }))

  app.post('/credentials/:id/recertify', {
    schema: { params: credentialIdParams, body: recertifyBody },
    config: { scope: 'credentials:reissue' }
  }, async (request, reply) => await newVersion(request, reply, request.params.id, { reason: 'recertification', body: request.body }))
}

// JSON-LD first: a client that sends no Accept (curl) or */* gets the signed
// document. text/html last: a browser's Accept ranks it above its */*;q=0.8.
const CREDENTIAL_MEDIA_TYPES = ['application/ld+json', 'application/vc+ld+json', 'application/vc', 'application/json', 'application/vc+jwt', 'application/jwt', 'text/html'] as const

/** A version as served from the document cache: the signed bytes and what names them. */
export interface ServedVersion { credentialId: string, version: number, document: string, jwt: string, bytes: number }

const served = (row: SignedVersionRow): ServedVersion =>
  ({ credentialId: row.credentialId, version: row.version, document: row.document, jwt: row.jwt, bytes: row.document.length + row.jwt.length + 200 })

async function sendSignedVersion (reply: FastifyReply, type: string, version: ServedVersion, cache: string): Promise<FastifyReply> {
  const jwt = type === 'application/vc+jwt' || type === 'application/jwt'
  // Strong: a version's bytes never change. The representation is part of it (Vary: Accept).
  const etag = `"${version.credentialId}-v${version.version}-${jwt ? 'jwt' : 'ld'}"`
  void reply.header('Vary', 'Accept').header('Cache-Control', cache).header('ETag', etag)
  const ifNoneMatch = reply.request.headers['if-none-match']
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').map((tag) => tag.trim()).includes(etag)) return await reply.code(304).send()
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
  const negotiated = (accept: string | undefined): string => {
    const type = negotiate(accept, CREDENTIAL_MEDIA_TYPES)
    if (type === undefined) throw new AppError('not_acceptable', `This credential is available as ${CREDENTIAL_MEDIA_TYPES.join(', ')}.`)
    return type
  }

  app.get('/credentials/:id', { config: perMinute(app.config.rateLimits.lookupPerMinute), schema: { params: credentialIdParams } }, async (request, reply) => {
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

  app.get('/credentials/:id/versions', { config: perMinute(app.config.rateLimits.lookupPerMinute), schema: { params: credentialIdParams } }, async (request) => {
    const { id } = request.params
    const row = await findCredential(app.sql, id)
    if (row === undefined) throw notFound(`Credential "${id}"`)
    const versions = await listVersions(app.sql, id)
    return { id: app.urls.credential(id), currentVersion: row.currentVersion, versions: versions.map((v) => versionSummary(row, v, app.urls)) }
  })

  app.get('/credentials/:id/versions/:version', { config: perMinute(app.config.rateLimits.lookupPerMinute), schema: { params: versionParams } }, async (request, reply) => {
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
