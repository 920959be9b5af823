import multipart, { type MultipartFile } from '@fastify/multipart'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCredential } from '../../capabilities/credentials/store.js'
import { applyForRecertification } from '../../capabilities/continuing-education/applications.js'
import { EVIDENCE_MAX_BYTES } from '../../capabilities/continuing-education/evidence-file.js'
import { formatPoints, loadCeRecord, progressInWords, type CeRecord } from '../../capabilities/continuing-education/progress.js'
import { deleteActivity, recordActivity, type RecordDeps } from '../../capabilities/continuing-education/record-activity.js'
import { findEvidenceFile, listApprovedProviders } from '../../capabilities/continuing-education/store.js'
import type { RecertificationPolicy } from '../../capabilities/achievements/recertification-rules.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import type { Db } from '../../infrastructure/db/types.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { fileOf, htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError } from '../../kernel/errors.js'

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const emptyForm = { type: 'object', additionalProperties: false, properties: { _csrf: text(200) } } as const
const activityParams = { type: 'object', additionalProperties: false, required: ['id', 'activityId'], properties: { id: idParams.properties.id, activityId: idParams.properties.id } } as const

const refusals = {
  400: htmlPage('The page again, saying what could not be read'),
  403: htmlPage('The form expired: its CSRF token is missing or stale'),
  409: htmlPage('The page again: the activity is counted by an application, or one is already waiting'),
  422: htmlPage('The page again, with the refusal (the rules\', the file check\'s or the verifier\'s words)'),
  429: htmlPage('Too many posts from this address (Retry-After)')
} as const
const toSignIn = { 303: noBody('Not signed in: to the sign-in form', { Location: { type: 'string', description: '/account' } }) }
const notYours = { 404: htmlPage('None of the signed-in holder\'s badges has this id') } as const

/** A file part as the multipart hook below leaves it in the body. */
interface Upload { bytes: Buffer, filename: string, truncated: boolean }
const isUpload = (value: unknown): value is Upload => typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).bytes)

/** The line "My badges" shows under a badge renewed by continuing education, and the link to its page; undefined for the others. */
export async function continuingEducationSummary (sql: Db, credentialId: string, now: Date): Promise<{ line: string, href: string } | undefined> {
  let record: CeRecord
  try {
    record = await loadCeRecord(sql, credentialId, now)
  } catch (error) {
    if (error instanceof AppError) return undefined
    throw error
  }
  if (!record.progress.offered) return undefined
  const deadline = longDate(record.progress.deadline)
  const waiting = record.pending === undefined ? '' : `; application of ${longDate(record.pending.submittedAt) ?? ''} waiting for review`
  return { line: `${progressInWords(record.progress)}${deadline === undefined ? '' : `, apply by ${deadline}`}${waiting}`, href: `/account/badges/${credentialId}/continuing-education` }
}

/**
 * The holder's continuing-education page for one badge: progress toward the
 * rules, the record of activities (a certificate upload or a verifiable CE
 * credential each), removing one, and applying for recertification. Plain
 * HTML forms; the multipart ones carry their CSRF token as a field, which the
 * multipart hook puts in the body before @fastify/csrf-protection reads it.
 * Every refusal is the page again with the refusal's own words.
 */
export async function continuingEducationRoutes (fastify: FastifyInstance): Promise<void> {
  // Parsed before preValidation's CSRF check (instance hooks run before route hooks), files kept in memory: 5 MiB at most.
  await fastify.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize: EVIDENCE_MAX_BYTES, files: 1, fields: 10, parts: 12, fieldSize: 256 * 1024 },
    onFile: async (part: MultipartFile) => {
      const bytes = await part.toBuffer()
      Object.assign(part, { value: { bytes, filename: part.filename, truncated: part.file.truncated } satisfies Upload })
    }
  })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { config: perMinute(app.config.rateLimits.formsPerMinute), preValidation: app.csrfProtection }
  const render = (reply: FastifyReply, template: string, data: { title: string } & Record<string, unknown>, status = 200): FastifyReply =>
    // Not sendPage: its no-cache would let a shared cache keep the holder's record.
    reply.code(status).type('text/html; charset=utf-8').header('X-Robots-Tag', 'noindex').header('Cache-Control', 'no-store').send(renderSitePage(template, app.config, data))
  const notFoundPage = (reply: FastifyReply): FastifyReply =>
    render(reply, 'account-message', { title: 'Badge not found', heading: 'Badge not found', text: 'None of your badges has this link.', next: { href: '/account', text: 'My badges' } }, 404)

  // A multipart form that breaks the limits (too many fields or parts): a page, not a JSON problem. CSRF and 429 go on to the portal's handler.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code?.startsWith('FST_CSRF_') !== true && error.statusCode !== 429 && /^FST_(PARTS|FILES|FIELDS)_LIMIT|^FST_PROTO_VIOLATION|^FST_INVALID_MULTIPART/.test(error.code ?? '')) {
      return render(reply, 'account-message', { title: 'The form could not be read', heading: 'The form could not be read', text: `${error.message}. Go back and send the form again.`, alert: true, next: { href: request.url.replace(/\/continuing-education\/.*$/, '/continuing-education'), text: 'Back to continuing education' } }, 400)
    }
    throw error
  })

  /** The signed-in holder's own credential id, or a reply already sent (to sign-in, or the 404 page). */
  const own = async (request: FastifyRequest, reply: FastifyReply, id: string): Promise<string | FastifyReply> => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const credential = await findCredential(app.sql, id)
    if (credential?.recipientEmail !== email) return notFoundPage(reply)
    return credential.id
  }

  const recordDeps = (request: FastifyRequest): RecordDeps => ({ sql: app.sql, now: app.clock(), actor: 'holder', requestId: request.id, verifier: app.verifier, publicBaseUrl: app.urls.base, allowLoopback: app.config.outbound.allowLoopback })

  /** The page: progress, applications, activities and the forms; `outcome` is what the last post did. */
  const ceRecordPage = async (reply: FastifyReply, credentialId: string, outcome: { notice?: string, error?: string, values?: Record<string, string> } = {}, status = 200): Promise<FastifyReply> => {
    const record = await loadCeRecord(app.sql, credentialId, app.clock())
    const { progress, achievement } = record
    const path = `/account/badges/${credentialId}/continuing-education`
    const fee = (achievement.recertification as RecertificationPolicy | null)?.renewalFee
    const latest = record.applications[0]
    const outside = new Set(progress.outsideWindow)
    const data = {
      title: `Continuing education: ${achievement.name}`,
      csrf: reply.generateCsrf(),
      path,
      achievementName: achievement.name,
      badgePath: new URL(app.urls.credential(credentialId)).pathname,
      offered: progress.offered,
      summary: progressInWords(progress),
      required: { points: formatPoints(progress.required.points), approved: formatPoints(progress.required.approvedPoints) },
      earned: { points: formatPoints(progress.earned.points), approved: formatPoints(progress.earned.approvedPoints) },
      missing: progress.missing.points > 0 || progress.missing.approvedPoints > 0
        ? [
            ...(progress.missing.points > 0 ? [`${formatPoints(progress.missing.points)} more point${progress.missing.points === 1 ? '' : 's'}`] : []),
            ...(progress.missing.approvedPoints > 0 ? [`${formatPoints(progress.missing.approvedPoints)} more from approved providers`] : [])
          ].join(', of which ')
        : undefined,
      window: progress.window === undefined ? undefined : { from: longDate(progress.window.from), until: longDate(progress.window.until) },
      validUntil: longDate(progress.validUntil),
      deadline: longDate(progress.deadline),
      fee: fee === undefined ? undefined : `${fee.amount.toFixed(2)} ${fee.currency}${fee.reference === undefined ? '' : ` (${fee.reference})`}`,
      canApply: progress.canApply && record.pending === undefined,
      whyNot: record.pending !== undefined ? undefined : progress.refusal?.message,
      pending: record.pending === undefined ? undefined : { submitted: longDate(record.pending.submittedAt), points: formatPoints(record.pending.pointsTotal), approved: formatPoints(record.pending.pointsApproved) },
      decided: latest === undefined || latest.state === 'pending'
        ? undefined
        : { state: latest.state, submitted: longDate(latest.submittedAt), decided: longDate(latest.decidedAt), reason: latest.decisionReason, version: latest.resultVersion },
      activities: record.activities.map((a) => ({
        id: a.id,
        title: a.title,
        provider: a.provider,
        completedOn: longDate(a.completedOn),
        points: formatPoints(a.points),
        category: a.category === 'approved' ? 'Approved CEU' : 'Other',
        evidence: a.evidenceKind === 'upload'
          ? { href: `${path}/activities/${a.id}/evidence`, text: `Certificate (${a.evidenceFilename ?? 'file'})` }
          : a.evidenceKind === 'credential' ? { text: 'Verifiable CE credential (verified)' } : { text: 'None' },
        outside: outside.has(a.id),
        frozen: a.applicationId !== null
      })),
      providers: (await listApprovedProviders(app.sql, achievement.id)).map((p) => ({ id: p.id, name: p.name })),
      maxMiB: EVIDENCE_MAX_BYTES / 1048576,
      today: app.clock().toISOString().slice(0, 10),
      values: outcome.values ?? {},
      ...(outcome.notice === undefined ? {} : { notice: outcome.notice }),
      ...(outcome.error === undefined ? {} : { error: outcome.error })
    }
    return render(reply, 'continuing-education', data, status)
  }

  /** Runs a holder's action; a refusal (a 4xx AppError) is the page again with its message. */
  const act = async (reply: FastifyReply, credentialId: string, action: () => Promise<string>, values?: Record<string, string>): Promise<FastifyReply> => {
    try {
      return await ceRecordPage(reply, credentialId, { notice: await action() })
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode >= 500) throw error
      const status = error.statusCode === 409 || error.statusCode === 422 ? error.statusCode : 400
      return await ceRecordPage(reply, credentialId, { error: error.message, ...(values === undefined ? {} : { values }) }, status)
    }
  }

  app.get('/account/badges/:id/continuing-education', {
    schema: {
      summary: 'A badge\'s continuing education: progress toward the rules, the activities, and the forms to add, remove and apply (HTML)',
      tags: [TAG.portal],
      params: idParams,
      response: { 200: htmlPage('The page (Cache-Control: no-store)'), ...toSignIn, ...notYours }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    return typeof id === 'string' ? await ceRecordPage(reply, id) : id
  })

  app.post('/account/badges/:id/continuing-education/activities', {
    ...posts,
    schema: {
      summary: 'Add an activity with its certificate (multipart: title, provider, providerId, completedOn, points, category, certificate: PDF/PNG/JPEG up to 5 MiB)',
      tags: [TAG.portal],
      params: idParams,
      response: { 200: htmlPage('The page, saying the activity was added'), ...refusals, ...toSignIn, ...notYours }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    if (typeof id !== 'string') return id
    const body = (request.body ?? {}) as Record<string, unknown>
    const field = (name: string): string => typeof body[name] === 'string' ? body[name] : ''
    const values = { title: field('title'), provider: field('provider'), providerId: field('providerId'), completedOn: field('completedOn'), points: field('points'), category: field('category') }
    const file = isUpload(body.certificate) && (body.certificate.bytes.length > 0 || body.certificate.filename !== '') ? body.certificate : undefined
    return await act(reply, id, async () => {
      if (file?.truncated === true) throw new AppError('evidence_refused', `The certificate file is larger than ${EVIDENCE_MAX_BYTES / 1048576} MiB; at most ${EVIDENCE_MAX_BYTES / 1048576} MiB is accepted.`)
      const points = values.points.trim() === '' ? Number.NaN : Number(values.points)
      const activity = await recordActivity(recordDeps(request), id, {
        kind: 'declared',
        activity: {
          title: values.title,
          provider: values.provider,
          ...(values.providerId !== '' ? { providerId: values.providerId } : {}),
          completedOn: values.completedOn.trim(),
          points,
          category: values.category === 'approved' ? 'approved' : 'other',
          ...(file === undefined ? {} : { certificate: { bytes: file.bytes, filename: file.filename } })
        }
      }, { certificateRequired: true })
      request.log.info({ credentialId: id, activityId: activity.id }, 'CE activity added by holder')
      return `Added "${activity.title}" (${formatPoints(activity.points)} points).`
    }, values)
  })

  app.post('/account/badges/:id/continuing-education/credentials', {
    ...posts,
    schema: {
      summary: 'Add a verifiable CE credential (multipart: credential = a link, JSON or JWT; or image = a baked badge image)',
      tags: [TAG.portal],
      params: idParams,
      response: { 200: htmlPage('The page, saying the credential was added'), ...refusals, ...toSignIn, ...notYours }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    if (typeof id !== 'string') return id
    const body = (request.body ?? {}) as Record<string, unknown>
    const pasted = typeof body.credential === 'string' ? body.credential.trim() : ''
    const image = isUpload(body.image) && body.image.bytes.length > 0 ? body.image : undefined
    return await act(reply, id, async () => {
      if (image?.truncated === true) throw new AppError('evidence_refused', `The badge image is larger than ${EVIDENCE_MAX_BYTES / 1048576} MiB.`)
      if (image === undefined && pasted === '') throw new AppError('activity_refused', 'Paste the CE credential (its link, JSON or JWT), or choose its badge image.')
      const activity = await recordActivity(recordDeps(request), id, { kind: 'credential', submitted: image === undefined ? { text: pasted } : { image: image.bytes } }, { certificateRequired: true })
      request.log.info({ credentialId: id, activityId: activity.id }, 'CE credential added by holder')
      return `Added "${activity.title}" from ${activity.provider} (${formatPoints(activity.points)} points, ${activity.category === 'approved' ? 'approved' : 'other'}).`
    })
  })

  app.post('/account/badges/:id/continuing-education/activities/:activityId/remove', {
    ...posts,
    schema: {
      summary: 'Remove an activity (not one an application counts)',
      tags: [TAG.portal],
      params: activityParams,
      body: emptyForm,
      response: { 200: htmlPage('The page, saying the activity was removed'), ...refusals, ...toSignIn, ...notYours }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    if (typeof id !== 'string') return id
    return await act(reply, id, async () => {
      await deleteActivity({ sql: app.sql, now: app.clock(), actor: 'holder', requestId: request.id }, id, request.params.activityId)
      return 'The activity was removed from your record.'
    })
  })

  app.post('/account/badges/:id/continuing-education/apply', {
    ...posts,
    schema: {
      summary: 'Apply for recertification by continuing education (refused in the rules\' words when they are not met)',
      tags: [TAG.portal],
      params: idParams,
      body: emptyForm,
      response: { 200: htmlPage('The page, with the application waiting for review'), ...refusals, ...toSignIn, ...notYours }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    if (typeof id !== 'string') return id
    return await act(reply, id, async () => {
      const application = await applyForRecertification({ sql: app.sql, now: app.clock(), actor: 'holder', requestId: request.id, outbox: app.outbox, urls: app.urls }, id)
      request.log.info({ credentialId: id, applicationId: application.id }, 'recertification applied for by holder')
      return `Your application was sent (${formatPoints(application.pointsTotal)} points, ${formatPoints(application.pointsApproved)} approved). Staff review it; we email you their decision.`
    })
  })

  app.get('/account/badges/:id/continuing-education/activities/:activityId/evidence', {
    schema: {
      summary: 'The certificate the holder uploaded for an activity (the holder\'s own only)',
      tags: [TAG.portal],
      params: activityParams,
      response: {
        200: fileOf('The file (PDF, PNG or JPEG, as its bytes proved at upload), as an attachment', ['application/pdf', 'image/png', 'image/jpeg']),
        ...toSignIn,
        ...notYours
      }
    }
  }, async (request, reply) => {
    const id = await own(request, reply, request.params.id)
    if (typeof id !== 'string') return id
    const file = await findEvidenceFile(app.sql, id, request.params.activityId)
    if (file === undefined) return notFoundPage(reply)
    return await reply
      .header('Content-Type', file.mediaType)
      .header('Content-Disposition', `attachment; filename="${file.filename ?? 'certificate'}"`)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, no-store')
      .send(file.bytes)
  })
}
