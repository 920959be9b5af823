import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FromSchema } from 'json-schema-to-ts'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { fileOf, locationHeader, nullableString, nullableTimestamp, problems, timestamp } from '../../infrastructure/http/common-schemas.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { AppError, notFound } from '../../kernel/errors.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { activitiesFromCsv, MAX_ACTIVITY_ROWS } from '../../capabilities/continuing-education/activities-csv.js'
import { addApprovedProvider, approvedProvidersOf, withdrawApprovedProvider } from '../../capabilities/continuing-education/approved-providers.js'
import { approveApplication, rejectApplication } from '../../capabilities/continuing-education/applications.js'
import { loadCeRecord, progressInWords } from '../../capabilities/continuing-education/progress.js'
import { deleteActivity, POINTS_MAX, recordActivities, recordActivity, type DeclaredActivity, type RecordDeps } from '../../capabilities/continuing-education/record-activity.js'
import { findApplication, findEvidenceFile, listActivitiesOfApplication, listApplications, type ActivityRow, type ApplicationRow, type ApprovedProviderRow } from '../../capabilities/continuing-education/store.js'
import type { ContinuingEducationProgress, RecertificationPolicy } from '../../capabilities/achievements/recertification-rules.js'

const id = { type: 'string', pattern: ID_PATTERN } as const
const day = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const
const pointsValue = { type: 'number', exclusiveMinimum: 0, maximum: POINTS_MAX } as const

const providerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'achievementId', 'providerId', 'name', 'addedAt', 'addedBy'],
  properties: { id, achievementId: { type: 'string' }, providerId: { type: 'string', description: 'The issuer id or DID its CE credentials carry' }, name: { type: 'string' }, addedAt: timestamp, addedBy: { type: 'string' } }
} as const

const activitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'provider', 'providerId', 'completedOn', 'points', 'category', 'evidence', 'recordedAt', 'recordedBy', 'applicationId'],
  properties: {
    id,
    title: { type: 'string' },
    provider: { type: 'string' },
    providerId: { ...nullableString, description: 'The approved provider (declared activities) or the CE credential\'s issuer' },
    completedOn: day,
    points: { type: 'number' },
    category: { type: 'string', enum: ['approved', 'other'] },
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['none', 'upload', 'credential'] },
        mediaType: { type: 'string' },
        filename: { type: 'string' },
        size: { type: 'integer' },
        url: { type: 'string', description: 'The uploaded certificate (staff API; credentials:read)' },
        verification: { type: 'object', additionalProperties: true, description: 'The verifier\'s answer when the CE credential was recorded' }
      }
    },
    counted: { type: 'boolean', description: 'On a credential\'s record: whether it counts toward the current period' },
    recordedAt: timestamp,
    recordedBy: { type: 'string', description: '"holder", or the API key id of staff' },
    applicationId: { ...nullableString, description: 'The application that counts it (it cannot be removed)' }
  }
} as const

const progressSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'offered', 'required', 'earned', 'missing', 'canApply'],
  properties: {
    summary: { type: 'string', description: '"42 of 60 points, 25 of 30 approved"' },
    offered: { type: 'boolean', description: 'Whether the achievement is renewed by continuing education at all' },
    required: { type: 'object', additionalProperties: false, required: ['points', 'approvedPoints'], properties: { points: { type: 'number' }, approvedPoints: { type: 'number' } } },
    earned: { type: 'object', additionalProperties: false, required: ['points', 'approvedPoints'], properties: { points: { type: 'number' }, approvedPoints: { type: 'number' } } },
    missing: { type: 'object', additionalProperties: false, required: ['points', 'approvedPoints'], properties: { points: { type: 'number' }, approvedPoints: { type: 'number' } } },
    window: { type: 'object', additionalProperties: false, required: ['from', 'until'], properties: { from: day, until: day }, description: 'Activities completed on these days (inclusive) count' },
    validUntil: timestamp,
    deadline: { ...timestamp, description: 'The last moment continuing education is accepted (validUntil plus the grace months)' },
    canApply: { type: 'boolean' },
    refusal: { type: 'object', additionalProperties: false, required: ['rule', 'message'], properties: { rule: { type: 'string' }, message: { type: 'string' } } },
    renewalFee: { type: 'object', additionalProperties: false, required: ['amount', 'currency'], properties: { amount: { type: 'number' }, currency: { type: 'string' }, reference: { type: 'string' } }, description: 'Recorded and shown; no payment is taken by the service' }
  }
} as const

const applicationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'credentialId', 'credentialUrl', 'achievementId', 'recipient', 'state', 'points', 'credentialVersion', 'submittedAt', 'decidedAt', 'decidedBy', 'reason', 'resultVersion'],
  properties: {
    id,
    credentialId: { type: 'string' },
    credentialUrl: { type: 'string' },
    achievementId: { type: 'string' },
    recipient: { type: 'object', additionalProperties: false, required: ['name', 'email'], properties: { name: { type: 'string' }, email: { type: 'string' } } },
    state: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
    points: { type: 'object', additionalProperties: false, required: ['total', 'approved'], properties: { total: { type: 'number' }, approved: { type: 'number' } } },
    credentialVersion: { type: 'integer', description: 'The version whose period it renews' },
    submittedAt: timestamp,
    decidedAt: nullableTimestamp,
    decidedBy: nullableString,
    reason: { ...nullableString, description: 'The rejection reason, or the approval note' },
    resultVersion: { type: ['integer', 'null'], description: 'The version the approval made' },
    activities: { type: 'array', items: activitySchema }
  }
} as const

const recordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['credentialId', 'achievementId', 'version', 'progress', 'activities', 'applications'],
  properties: {
    credentialId: { type: 'string' },
    achievementId: { type: 'string' },
    version: { type: 'integer' },
    progress: progressSchema,
    activities: { type: 'array', items: activitySchema },
    applications: { type: 'array', items: applicationSchema }
  }
} as const

const declaredProperties = {
  title: { type: 'string', minLength: 1, maxLength: 300 },
  provider: { type: 'string', minLength: 1, maxLength: 300 },
  providerId: { type: 'string', minLength: 1, maxLength: 2000, description: 'Required for category "approved": the approved provider\'s providerId (or entry id)' },
  completedOn: day,
  points: pointsValue,
  category: { type: 'string', enum: ['approved', 'other'] }
} as const

const activityBody = {
  examples: [
    { title: 'Infection control update', provider: 'AAMA e-Learning Center', providerId: 'https://www.aama-ntl.org', completedOn: '2026-03-14', points: 4, category: 'approved' },
    { credential: 'https://ce.example.org/credentials/7c1d' }
  ],
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['title', 'provider', 'completedOn', 'points', 'category'],
      properties: {
        ...declaredProperties,
        certificate: { type: 'object', additionalProperties: false, required: ['data'], properties: { data: { type: 'string', contentEncoding: 'base64', maxLength: 7 * 1024 * 1024, description: 'The certificate file, base64 (PDF, PNG or JPEG; at most 5 MiB)' }, filename: { type: 'string', maxLength: 200 } } }
      }
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['credential'],
      properties: { credential: { oneOf: [{ type: 'object' }, { type: 'string', minLength: 1, maxLength: 262144 }], description: 'A verifiable CE credential: the JSON-LD object, a compact VC-JWT, or its https link' } }
    }
  ]
} as const

const bulkBody = {
  examples: [{ items: [{ credentialId: 'x7KqP2mZr9LwT4vN', title: 'Phlebotomy refresher', provider: 'Regional College', completedOn: '2026-02-02', points: 3, category: 'other' }] }],
  anyOf: [
    { type: 'string', description: `text/csv: a header row naming credentialId,title,provider,providerId,completedOn,points,category; at most ${MAX_ACTIVITY_ROWS} rows` },
    {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: { items: { type: 'array', minItems: 1, maxItems: MAX_ACTIVITY_ROWS, items: { type: 'object', additionalProperties: false, required: ['credentialId', 'title', 'provider', 'completedOn', 'points', 'category'], properties: { credentialId: id, ...declaredProperties } } } }
    }
  ]
} as const

const credentialParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id } } as const
const activityParams = { type: 'object', additionalProperties: false, required: ['id', 'activityId'], properties: { id, activityId: id } } as const
const providerParams = { type: 'object', additionalProperties: false, required: ['id', 'entryId'], properties: { id, entryId: id } } as const

const BODY_LIMIT = 8 * 1024 * 1024

type ActivityResource = FromSchema<typeof activitySchema>
type ApplicationResource = FromSchema<typeof applicationSchema>
type ProviderResource = FromSchema<typeof providerSchema>

export function activityResource (row: ActivityRow, urls: PublicUrls, counted?: boolean): ActivityResource {
  return {
    id: row.id,
    title: row.title,
    provider: row.provider,
    providerId: row.providerId,
    completedOn: row.completedOn,
    points: row.points,
    category: row.category,
    evidence: {
      kind: row.evidenceKind,
      ...(row.evidenceMediaType === null ? {} : { mediaType: row.evidenceMediaType }),
      ...(row.evidenceFilename === null ? {} : { filename: row.evidenceFilename }),
      ...(row.evidenceSize === null ? {} : { size: row.evidenceSize }),
      ...(row.evidenceKind === 'upload' ? { url: `${urls.base}/api/v1/credentials/${row.credentialId}/continuing-education/activities/${row.id}/evidence` } : {}),
      ...(row.evidenceVerification === null ? {} : { verification: row.evidenceVerification })
    },
    ...(counted === undefined ? {} : { counted }),
    recordedAt: row.recordedAt.toISOString(),
    recordedBy: row.recordedBy,
    applicationId: row.applicationId
  } as ActivityResource
}

function progressResource (progress: ContinuingEducationProgress, policy: RecertificationPolicy | null): Record<string, unknown> {
  return {
    summary: progressInWords(progress),
    offered: progress.offered,
    required: progress.required,
    earned: progress.earned,
    missing: progress.missing,
    ...(progress.window === undefined ? {} : { window: progress.window }),
    ...(progress.validUntil === undefined ? {} : { validUntil: progress.validUntil.toISOString() }),
    ...(progress.deadline === undefined ? {} : { deadline: progress.deadline.toISOString() }),
    canApply: progress.canApply,
    ...(progress.refusal === undefined ? {} : { refusal: progress.refusal }),
    ...(policy?.renewalFee === undefined ? {} : { renewalFee: policy.renewalFee })
  }
}

function applicationResource (row: ApplicationRow, urls: PublicUrls, activities?: ActivityRow[]): ApplicationResource {
  return {
    id: row.id,
    credentialId: row.credentialId,
    credentialUrl: urls.credential(row.credentialId),
    achievementId: row.achievementId,
    recipient: { name: row.recipientName, email: row.recipientEmail },
    state: row.state,
    points: { total: row.pointsTotal, approved: row.pointsApproved },
    credentialVersion: row.credentialVersion,
    submittedAt: row.submittedAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
    decidedBy: row.decidedBy,
    reason: row.decisionReason,
    resultVersion: row.resultVersion,
    ...(activities === undefined ? {} : { activities: activities.map((a) => activityResource(a, urls)) })
  }
}

const providerResource = (row: ApprovedProviderRow): ProviderResource => ({ ...row, addedAt: row.addedAt.toISOString() })

/**
 * Continuing education for staff, under /api/v1: the approved providers of
 * each achievement, each credential's CE record and progress (recorded one at
 * a time or imported in bulk), and the holders' recertification applications
 * to approve (a new version under the same URL) or reject (with a reason the
 * holder is emailed). Thin: every rule lives in capabilities/continuing-education.
 */
export async function continuingEducationRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const recordDeps = (request: FastifyRequest): RecordDeps => ({
    sql: app.sql,
    now: app.clock(),
    actor: staffOf(request).actor,
    requestId: request.id,
    verifier: app.verifier,
    publicBaseUrl: app.urls.base,
    allowLoopback: app.config.outbound.allowLoopback
  })
  const adminDeps = (request: FastifyRequest) => ({ sql: app.sql, now: app.clock(), actor: staffOf(request).actor, requestId: request.id })
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => { done(null, body) })

  app.get('/achievements/:id/approved-providers', {
    schema: { summary: 'The approved continuing-education providers of an achievement', tags: [TAG.staffContinuingEducation], params: credentialParams, response: { 200: { description: 'The current list', type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: providerSchema } } }, ...problems(404) } },
    config: { scope: 'achievements:read' }
  }, async (request) => ({ items: (await approvedProvidersOf(app.sql, request.params.id)).map(providerResource) }))

  app.post('/achievements/:id/approved-providers', {
    schema: {
      summary: 'Approve a CE provider for an achievement: its activities and CE credentials count as approved points',
      tags: [TAG.staffContinuingEducation],
      params: credentialParams,
      body: { examples: [{ providerId: 'https://www.aama-ntl.org', name: 'AAMA (approved CEUs)' }], type: 'object', additionalProperties: false, required: ['providerId', 'name'], properties: { providerId: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S', description: 'The issuer id or DID the provider\'s CE credentials carry' }, name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } } },
      response: { 201: { description: 'Added', headers: locationHeader, ...providerSchema }, ...problems(404, [409, 'Already on the list (existing names the entry)']) }
    },
    config: { scope: 'achievements:write' }
  }, async (request, reply) => {
    const row = await addApprovedProvider(adminDeps(request), request.params.id, request.body)
    return await reply.code(201).header('Location', `${app.urls.base}/api/v1/achievements/${request.params.id}/approved-providers`).send(providerResource(row))
  })

  app.delete('/achievements/:id/approved-providers/:entryId', {
    schema: { summary: 'Remove a CE provider from an achievement\'s list (activities already recorded keep their category)', tags: [TAG.staffContinuingEducation], params: providerParams, response: { 200: { description: 'Removed', ...providerSchema }, ...problems(404) } },
    config: { scope: 'achievements:write' }
  }, async (request) => providerResource(await withdrawApprovedProvider(adminDeps(request), request.params.id, request.params.entryId)))

  app.get('/credentials/:id/continuing-education', {
    schema: { summary: 'A credential\'s continuing-education record: progress toward the rules, activities, applications', tags: [TAG.staffContinuingEducation], params: credentialParams, response: { 200: { description: 'The record', ...recordSchema }, ...problems(404) } },
    config: { scope: 'credentials:read' }
  }, async (request) => {
    const record = await loadCeRecord(app.sql, request.params.id, app.clock())
    const counted = new Set(record.progress.counted)
    return {
      credentialId: record.credential.id,
      achievementId: record.achievement.id,
      version: record.version.version,
      progress: progressResource(record.progress, record.achievement.recertification as RecertificationPolicy | null),
      activities: record.activities.map((a) => activityResource(a, app.urls, counted.has(a.id))),
      applications: record.applications.map((a) => applicationResource(a, app.urls))
    } as never
  })

  app.post('/credentials/:id/continuing-education/activities', {
    schema: {
      summary: 'Record a continuing-education activity on a credential (declared, with an optional certificate; or a verifiable CE credential)',
      tags: [TAG.staffContinuingEducation],
      params: credentialParams,
      body: activityBody,
      response: { 201: { description: 'Recorded', ...activitySchema }, ...problems(404, [409, 'The credential is revoked, or the CE credential is already on the record'], [422, 'The activity, its evidence or the CE credential was refused (activity_refused, evidence_refused, ce_credential_refused, continuing_education_not_offered)']) }
    },
    bodyLimit: BODY_LIMIT,
    config: { scope: 'continuing-education:write' }
  }, async (request, reply) => {
    const body = request.body as Record<string, unknown>
    const input = 'credential' in body
      ? { kind: 'credential' as const, submitted: { text: typeof body.credential === 'string' ? body.credential : JSON.stringify(body.credential) } }
      : { kind: 'declared' as const, activity: declared(body) }
    const row = await recordActivity(recordDeps(request), request.params.id, input, { certificateRequired: false })
    return await reply.code(201).send(activityResource(row, app.urls))
  })

  app.delete('/credentials/:id/continuing-education/activities/:activityId', {
    schema: { summary: 'Remove an activity (not one an application counts)', tags: [TAG.staffContinuingEducation], params: activityParams, response: { 204: { description: 'Removed', type: 'null' }, ...problems(404, [409, 'Counted by an application (activity_frozen)']) } },
    config: { scope: 'continuing-education:write' }
  }, async (request, reply) => {
    await deleteActivity(adminDeps(request), request.params.id, request.params.activityId)
    return await reply.code(204).send(null)
  })

  app.get('/credentials/:id/continuing-education/activities/:activityId/evidence', {
    schema: { summary: 'An activity\'s uploaded certificate', tags: [TAG.staffContinuingEducation], params: activityParams, response: { 200: fileOf('The file as uploaded (its type proven by its bytes)', ['application/pdf', 'image/png', 'image/jpeg']), ...problems(404) } },
    config: { scope: 'credentials:read' }
  }, async (request, reply) => {
    const file = await findEvidenceFile(app.sql, request.params.id, request.params.activityId)
    if (file === undefined) throw notFound(`Evidence of activity "${request.params.activityId}"`)
    return await reply.type(file.mediaType).header('Content-Disposition', `attachment; filename="${file.filename ?? 'certificate'}"`).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'private, no-store').send(file.bytes)
  })

  app.post('/continuing-education/activities', {
    schema: {
      summary: 'Import activities (a CE provider\'s report): CSV or JSON items; all or none',
      tags: [TAG.staffContinuingEducation],
      body: bulkBody,
      response: { 201: { description: 'Every activity recorded', type: 'object', additionalProperties: false, required: ['recorded', 'items'], properties: { recorded: { type: 'integer' }, items: { type: 'array', items: { ...activitySchema, required: [...activitySchema.required, 'credentialId'], properties: { ...activitySchema.properties, credentialId: { type: 'string' } } } } } }, ...problems([422, 'Some rows were refused: items names each (row for a CSV, index for JSON); nothing was recorded']) }
    },
    bodyLimit: BODY_LIMIT,
    config: { scope: 'continuing-education:write' }
  }, async (request, reply) => {
    const body = request.body
    const csv = typeof body === 'string'
    const items = csv ? activitiesFromCsv(body) : body.items.map(({ credentialId, ...rest }) => ({ credentialId, activity: declared(rest) }))
    let rows: ActivityRow[]
    try {
      rows = await recordActivities(recordDeps(request), items)
    } catch (error) {
      // A spreadsheet's rows are numbered from its header (row 1).
      if (csv && error instanceof AppError && Array.isArray(error.extra.items)) {
        const named = (error.extra.items as Array<{ index: number, message: string }>).map((p) => ({ row: p.index + 2, message: `Row ${p.index + 2}: ${p.message}` }))
        throw new AppError(error.code, error.message, { items: named })
      }
      throw error
    }
    return await reply.code(201).send({ recorded: rows.length, items: rows.map((r) => ({ ...activityResource(r, app.urls), credentialId: r.credentialId })) })
  })

  const listQuery = {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
      achievementId: id,
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
      after: { type: 'string', pattern: ID_PATTERN, description: 'The `next` of the previous page' }
    }
  } as const
  app.get('/recertification-applications', {
    schema: {
      summary: 'The holders\' recertification applications, oldest first (the review queue: state=pending)',
      tags: [TAG.staffContinuingEducation],
      querystring: listQuery,
      response: { 200: { description: 'A page; `next` is the `after` of the next page (null on the last)', type: 'object', additionalProperties: false, required: ['items', 'next'], properties: { items: { type: 'array', items: applicationSchema }, next: nullableString } }, ...problems(400) }
    },
    config: { scope: 'recertification:review' }
  }, async (request) => {
    const { state, achievementId, limit = 50, after } = request.query
    const cursor = after === undefined ? undefined : await findApplication(app.sql, after)
    if (after !== undefined && cursor === undefined) throw new AppError('validation_failed', `"after" names no application: "${after}".`)
    const rows = await listApplications(app.sql, { limit, ...(state === undefined ? {} : { state }), ...(achievementId === undefined ? {} : { achievementId }), ...(cursor === undefined ? {} : { after: { submittedAt: cursor.submittedAt, id: cursor.id } }) })
    const last = rows.at(-1)
    return { items: rows.map((r) => applicationResource(r, app.urls)), next: rows.length === limit && last !== undefined ? last.id : null } as never
  })

  const applicationParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id } } as const
  app.get('/recertification-applications/:id', {
    schema: { summary: 'One application, with the activities it counts and their evidence', tags: [TAG.staffContinuingEducation], params: applicationParams, response: { 200: { description: 'The application', ...applicationSchema }, ...problems(404) } },
    config: { scope: 'recertification:review' }
  }, async (request) => {
    const row = await findApplication(app.sql, request.params.id)
    if (row === undefined) throw notFound(`Recertification application "${request.params.id}"`)
    return applicationResource(row, app.urls, await listActivitiesOfApplication(app.sql, row.id)) as never
  })

  app.post('/recertification-applications/:id/approve', {
    schema: {
      summary: 'Approve: recertifies the credential with the application\'s points (a new version under the same URL; the holder is emailed)',
      tags: [TAG.staffContinuingEducation],
      params: applicationParams,
      body: { type: 'object', additionalProperties: false, properties: { note: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: {
        200: { description: 'Approved, with the new version', type: 'object', additionalProperties: false, required: ['application', 'credential'], properties: { application: applicationSchema, credential: { type: 'object', additionalProperties: false, required: ['id', 'url', 'version', 'validUntil'], properties: { id: { type: 'string' }, url: { type: 'string' }, version: { type: 'integer' }, validUntil: nullableString } } } },
        ...problems(404, [409, 'Already decided (application_decided), the credential renewed by other means since the application (conflict: reject it), revoked, or its achievement archived'], [422, 'The rules refuse it after all (recertification_refused)'])
      }
    },
    config: { scope: 'recertification:review' }
  }, async (request) => {
    const deps = { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }
    const { application, issued } = await approveApplication(deps, request.params.id, (request.body as { note?: string } | undefined)?.note)
    request.log.info({ application: application.id, credentialId: issued.id, version: issued.version }, 'recertification application approved')
    const validUntil = issued.credential.validUntil
    return { application: applicationResource(application, app.urls), credential: { id: issued.id, url: issued.url, version: issued.version, validUntil: typeof validUntil === 'string' ? validUntil : null } } as never
  })

  app.post('/recertification-applications/:id/reject', {
    schema: {
      summary: 'Reject, with the reason the holder is emailed; the activities return to the holder\'s record',
      tags: [TAG.staffContinuingEducation],
      params: applicationParams,
      body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' } } },
      response: { 200: { description: 'Rejected', ...applicationSchema }, ...problems(404, [409, 'Already decided (application_decided)']) }
    },
    config: { scope: 'recertification:review' }
  }, async (request) => {
    const row = await rejectApplication({ ...adminDeps(request), outbox: app.outbox, urls: app.urls }, request.params.id, request.body.reason.trim())
    return applicationResource(row, app.urls) as never
  })
}

function declared (body: Record<string, unknown>): DeclaredActivity {
  const certificate = body.certificate as { data: string, filename?: string } | undefined
  return {
    title: String(body.title),
    provider: String(body.provider),
    ...(typeof body.providerId === 'string' ? { providerId: body.providerId } : {}),
    completedOn: String(body.completedOn),
    points: Number(body.points),
    category: body.category === 'approved' ? 'approved' : 'other',
    ...(certificate === undefined ? {} : { certificate: { bytes: Buffer.from(certificate.data, 'base64'), ...(certificate.filename === undefined ? {} : { filename: certificate.filename }) } })
  }
}
