import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { decideRecertification, type RecertificationPolicy } from '../../capabilities/achievements/recertification-rules.js'
import { listAchievements, type AchievementRow } from '../../capabilities/achievements/store.js'
import { approveApplication, judgeApplication, rejectApplication, type ApplicationJudgement } from '../../capabilities/continuing-education/applications.js'
import { formatPoints, progressInWords } from '../../capabilities/continuing-education/progress.js'
import { findApplication, findEvidenceFile, listActivitiesOfApplication, listApplications, type ActivityRow, type ApplicationRow } from '../../capabilities/continuing-education/store.js'
import { validityPeriod } from '../../capabilities/credentials/issue/issue-credential.js'
import { withExactDates } from '../../capabilities/credentials/issue/issue-dates.js'
import { findCredential } from '../../capabilities/credentials/store.js'
import { approveOrder, rejectOrder, type OrderDeps } from '../../capabilities/holders/orders.js'
import { findOrder, listOrders, type OrderRow } from '../../capabilities/holders/store.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { findStaffUser } from '../../capabilities/staff-accounts/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { fileOf, htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { sendConsoleMessage, sendConsolePage } from './page.js'

const id = { type: 'string', pattern: ID_PATTERN } as const
const day = { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: 'YYYY-MM-DD (a date input); empty: not given' } as const
const csrf = { type: 'string', maxLength: 200 } as const
const reasonField = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const
const noteField = { type: 'string', maxLength: 1000 } as const
const yes = { type: 'string', enum: ['yes'], description: 'A checked checkbox' } as const

const queueQuery = { type: 'object', additionalProperties: false, properties: { done: { type: 'string', enum: ['approved', 'rejected'] }, item: id } } as const
const orderApprovalFields = {
  achievementId: { type: 'string', maxLength: 40, description: 'The achievement to issue (empty: not chosen yet)' },
  validFrom: day,
  validUntil: day,
  awardedDate: day,
  recipientName: { type: 'string', maxLength: 200 },
  notify: yes
} as const
const orderApproveQuery = { type: 'object', additionalProperties: false, properties: { ...orderApprovalFields, confirm: yes } } as const
const orderApproveBody = { type: 'object', additionalProperties: false, required: ['achievementId', 'validFrom'], properties: { _csrf: csrf, ...orderApprovalFields, achievementId: id, recipientName: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } } } as const
const rejectBody = { type: 'object', additionalProperties: false, required: ['reason'], properties: { _csrf: csrf, reason: reasonField } } as const
const approveBody = { type: 'object', additionalProperties: false, properties: { _csrf: csrf, note: noteField, notify: yes } } as const
const evidenceParams = { type: 'object', additionalProperties: false, required: ['id', 'activityId'], properties: { id, activityId: id } } as const

const page = (description: string) => ({ 200: htmlPage(description), 400: htmlPage('The address could not be read'), 403: htmlPage('The role lacks the scope'), 404: htmlPage('No such item'), 409: htmlPage('Already decided by someone else') })
const toQueue = (queue: string) => ({ 303: noBody('Done: to the queue with the outcome', { Location: { type: 'string', description: `/console/queues/${queue}?done=…&item=…` } }), 400: htmlPage('The form could not be read'), 403: htmlPage('The role lacks the scope, or the form expired'), 404: htmlPage('No such item'), 409: htmlPage('Already decided by someone else'), 422: htmlPage('Refused (the reason in words)') })

/**
 * The staff queues in the console: badge orders and correction requests
 * (orders:admin) and recertification applications (recertification:review),
 * each item approved or rejected behind a page that says what will happen,
 * through the same domain functions as the staff API (approveOrder,
 * rejectOrder, approveApplication, rejectApplication), so the audit trail
 * names the staff user. Decided items leave the queue; an item decided by
 * someone else in the meantime answers a 409 page.
 */
export async function queuesRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)
  const orderDeps = (request: FastifyRequest): OrderDeps => ({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, jobs: app.jobs, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes })
  const reissueDeps = (request: FastifyRequest) => ({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes })
  const consoleRecord = (credentialId: string): string => `/console/credentials/${credentialId}`

  // A form or address the schemas refuse (only a hand-made one: the pages send what they showed) is a page too;
  // everything else goes on to the console's handler.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation === undefined) throw error
    return sendConsoleMessage(request, reply, 400, { heading: 'The form could not be read', text: `${error.message}. Go back to the queue and try again.`, alert: true, next: { href: '/console', text: 'Back to the dashboard' } })
  })

  /** Who decided, in words: a staff user's name, else the API key or actor as recorded. */
  const decider = async (actor: string | null): Promise<string> => {
    if (actor === null) return 'someone'
    const staffId = /^staff:(.+)$/.exec(actor)?.[1]
    const user = staffId === undefined ? undefined : await findStaffUser(app.sql, staffId)
    return user === undefined ? actor : user.name
  }
  const alreadyDecided = async (request: FastifyRequest, reply: FastifyReply, what: string, row: { state: string, decidedAt: Date | null, decidedBy: string | null }, queue: string): Promise<FastifyReply> =>
    sendConsoleMessage(request, reply, 409, {
      heading: 'Already decided',
      text: `${what} was already ${row.state} by ${await decider(row.decidedBy)}${row.decidedAt === null ? '' : ` on ${longDate(row.decidedAt) ?? ''}`}. Nothing was changed.`,
      alert: true,
      next: { href: `/console/queues/${queue}`, text: 'Back to the queue' }
    })
  const missing = (what: string): AppError => new AppError('not_found', `${what} does not exist.`)

  // ---- Badge orders -------------------------------------------------------

  const pendingOrder = async (orderId: string, type: 'badge' | 'correction'): Promise<OrderRow> => {
    const order = await findOrder(app.sql, orderId)
    if (order?.type !== type) throw missing(type === 'badge' ? `Order "${orderId}"` : `Correction request "${orderId}"`)
    return order
  }
  const orderLabel = (order: OrderRow): string => order.type === 'badge' ? `The badge order from ${order.name}` : `The correction request of ${order.name}`
  const activeAchievements = async (): Promise<AchievementRow[]> => await listAchievements(app.sql, { limit: 500, archived: false })
  const doneMessage = async (queue: 'orders' | 'corrections' | 'applications', done: 'approved' | 'rejected' | undefined, item: string | undefined): Promise<string | undefined> => {
    if (done === undefined || item === undefined) return undefined
    if (queue === 'applications') {
      const application = await findApplication(app.sql, item)
      if (application?.state !== done) return undefined
      return done === 'approved'
        ? `Approved: ${application.recipientName}'s badge is recertified (version ${application.resultVersion ?? ''}); the holder is emailed.`
        : `Rejected: ${application.recipientName}'s application; the holder is emailed the reason and the activities return to their record.`
    }
    const order = await findOrder(app.sql, item)
    if (order?.state !== done) return undefined
    if (done === 'rejected') return `Rejected: ${orderLabel(order).replace(/^The/, 'the')}; they are emailed the reason.`
    return order.type === 'badge'
      ? `Approved: ${order.name}'s badge is issued (${app.urls.credential(order.resultCredentialId ?? '')}).`
      : `Approved: ${order.name}'s credential is corrected (version ${order.resultVersion ?? ''}).`
  }

  app.get('/console/queues/orders', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Pending badge orders, oldest first, each with Approve and Reject', tags: [TAG.console], querystring: queueQuery, response: page('The queue of badge orders') }
  }, async (request, reply) => {
    const orders = await listOrders(app.sql, { state: 'pending', type: 'badge', limit: 200 })
    return sendConsolePage(request, reply, 'queue-orders', {
      title: 'Badge orders',
      done: await doneMessage('orders', request.query.done, request.query.item),
      orders: orders.map((o) => ({
        id: o.id,
        name: o.name,
        email: o.email,
        certificateNumber: o.certificateNumber,
        certifiedOn: longDate(o.certifiedOn),
        evidence: o.evidenceUrl === null ? undefined : { url: o.evidenceUrl, linkable: o.evidenceUrl.startsWith('https://'), status: (o.evidenceVerification as { status?: string } | null)?.status ?? 'not checked yet' },
        note: o.note,
        received: longDate(o.createdAt)
      }))
    })
  })

  app.get('/console/queues/orders/:id/approve', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Approving a badge order: the achievement and period, then a confirmation that says what will be issued', tags: [TAG.console], params: idParams, querystring: orderApproveQuery, response: { ...page('The approval form, or its confirmation'), 422: htmlPage('The form again, saying what is wrong') } }
  }, async (request, reply) => {
    const order = await pendingOrder(request.params.id, 'badge')
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, 'orders')
    const q = request.query
    const achievements = await activeAchievements()
    const values = {
      achievementId: q.achievementId ?? (achievements.length === 1 ? achievements[0]?.id : undefined) ?? '',
      validFrom: q.validFrom ?? order.certifiedOn ?? '',
      validUntil: q.validUntil ?? '',
      awardedDate: q.awardedDate ?? '',
      recipientName: q.recipientName ?? order.name,
      notify: q.confirm === undefined ? true : q.notify === 'yes'
    }
    const form = (error?: string): FastifyReply => sendConsolePage(request, reply, 'queue-order-approve', {
      title: `Approve the order from ${order.name}`,
      order: { id: order.id, name: order.name, email: order.email, certificateNumber: order.certificateNumber, certifiedOn: longDate(order.certifiedOn), note: order.note, evidenceUrl: order.evidenceUrl },
      achievements: achievements.map((a) => ({ id: a.id, name: a.name, validity: a.validityMonths === null ? 'does not expire' : `valid ${a.validityMonths} months` })),
      values,
      error
    }, error === undefined ? 200 : 422)
    if (q.confirm === undefined) return form()
    const achievement = achievements.find((a) => a.id === values.achievementId)
    if (achievement === undefined) return form('Choose the achievement to issue.')
    if (values.validFrom === '') return form('Give the start of the current certification period ("Valid from").')
    if (values.recipientName.trim() === '') return form('Give the name as it should appear on the badge.')
    const dates = withExactDates({ validFrom: values.validFrom, ...(values.validUntil === '' ? {} : { validUntil: values.validUntil }), ...(values.awardedDate === '' ? {} : { awardedDate: values.awardedDate }) })
    let period: ReturnType<typeof validityPeriod>
    try {
      period = validityPeriod(dates, achievement.validityMonths, app.clock())
    } catch (error) {
      if (error instanceof AppError) return form(error.message)
      throw error
    }
    const until = period.validUntil === undefined ? 'with no end date' : `valid until ${longDate(period.validUntil) ?? ''}`
    const awarded = period.awardedDate.getTime() === period.validFrom.getTime() ? '' : `, first awarded ${longDate(period.awardedDate) ?? ''}`
    return sendConsolePage(request, reply, 'queue-confirm', {
      title: `Approve the order from ${order.name}`,
      heading: 'Issue this badge?',
      sentence: `Issue a ${achievement.name} badge to ${values.recipientName.trim()} (${order.email}), valid from ${longDate(period.validFrom) ?? ''}, ${until}${awarded}; ${values.notify ? 'the holder is emailed the link' : 'the holder is not emailed'}.`,
      action: `/console/queues/orders/${order.id}/approve`,
      hidden: { achievementId: achievement.id, validFrom: values.validFrom, validUntil: values.validUntil, awardedDate: values.awardedDate, recipientName: values.recipientName.trim(), ...(values.notify ? { notify: 'yes' } : {}) },
      button: 'Approve and issue the badge',
      back: { href: `/console/queues/orders/${order.id}/approve?${new URLSearchParams({ achievementId: values.achievementId, validFrom: values.validFrom, validUntil: values.validUntil, awardedDate: values.awardedDate, recipientName: values.recipientName }).toString()}`, text: 'Change the details' }
    })
  })

  app.post('/console/queues/orders/:id/approve', {
    ...posts,
    config: { scope: 'orders:admin', ...limited },
    schema: { summary: 'Approve a badge order: issues the badge as POST /api/v1/orders/:id/approve does', tags: [TAG.console], params: idParams, body: orderApproveBody, response: toQueue('orders') }
  }, async (request, reply) => {
    const order = await pendingOrder(request.params.id, 'badge')
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, 'orders')
    const b = request.body
    const dates = withExactDates({ validFrom: b.validFrom, ...(b.validUntil === undefined || b.validUntil === '' ? {} : { validUntil: b.validUntil }), ...(b.awardedDate === undefined || b.awardedDate === '' ? {} : { awardedDate: b.awardedDate }) })
    const result = await approveOrder(orderDeps(request), order.id, { achievementId: b.achievementId, ...dates, ...(b.recipientName === undefined ? {} : { recipientName: b.recipientName.trim() }), notify: b.notify === 'yes' })
    // Approved by someone else between our read and the lock: nothing was issued this time.
    if (result.issued === undefined) return await alreadyDecided(request, reply, orderLabel(order), result.order, 'orders')
    request.log.info({ orderId: order.id, credentialId: result.issued.id }, 'order approved in the console')
    return await reply.redirect(`/console/queues/orders?done=approved&item=${order.id}`, 303)
  })

  const rejectPage = (queue: 'orders' | 'corrections', type: 'badge' | 'correction') => async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const order = await pendingOrder((request.params as { id: string }).id, type)
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, queue)
    const what = type === 'badge'
      ? `the badge order for certificate number ${order.certificateNumber ?? ''}`
      : `the request to change the ${order.correctionField ?? ''} to "${order.correctionValue ?? ''}"`
    return sendConsolePage(request, reply, 'queue-confirm', {
      title: `Reject ${orderLabel(order).replace(/^The/, 'the')}`,
      heading: 'Reject this request?',
      sentence: `Reject ${what} from ${order.name}. ${order.name} (${order.email}) is emailed the reason you give.`,
      action: `/console/queues/${queue}/${order.id}/reject`,
      hidden: {},
      reason: true,
      button: 'Reject and email the reason',
      danger: true,
      back: { href: `/console/queues/${queue}`, text: 'Back to the queue' }
    })
  }
  const rejectAction = (queue: 'orders' | 'corrections', type: 'badge' | 'correction') => async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    // The route's schemas (idParams, rejectBody) have checked both.
    const params = request.params as { id: string }
    const body = request.body as { reason: string }
    const order = await pendingOrder(params.id, type)
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, queue)
    const actor = staffOf(request).actor
    const rejected = await rejectOrder(orderDeps(request), order.id, body.reason.trim())
    if (rejected.decidedBy !== actor) return await alreadyDecided(request, reply, orderLabel(order), rejected, queue)
    return await reply.redirect(`/console/queues/${queue}?done=rejected&item=${order.id}`, 303)
  }

  app.get('/console/queues/orders/:id/reject', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Rejecting a badge order: the reason the requester is emailed', tags: [TAG.console], params: idParams, response: page('The rejection form') }
  }, rejectPage('orders', 'badge'))

  app.post('/console/queues/orders/:id/reject', {
    ...posts,
    config: { scope: 'orders:admin', ...limited },
    schema: { summary: 'Reject a badge order with a reason (the requester is emailed)', tags: [TAG.console], params: idParams, body: rejectBody, response: toQueue('orders') }
  }, rejectAction('orders', 'badge'))

  // ---- Correction requests ------------------------------------------------

  app.get('/console/queues/corrections', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Pending correction requests, oldest first, each with Approve and Reject', tags: [TAG.console], querystring: queueQuery, response: page('The queue of correction requests') }
  }, async (request, reply) => {
    const requests = await listOrders(app.sql, { state: 'pending', type: 'correction', limit: 200 })
    const credentials = await Promise.all(requests.map(async (r) => await findCredential(app.sql, r.credentialId ?? '')))
    return sendConsolePage(request, reply, 'queue-corrections', {
      title: 'Correction requests',
      done: await doneMessage('corrections', request.query.done, request.query.item),
      requests: requests.map((r, i) => {
        const credential = credentials[i]
        return {
          id: r.id,
          credential: { record: consoleRecord(r.credentialId ?? ''), url: app.urls.credential(r.credentialId ?? '') },
          field: r.correctionField === 'email' ? 'Email' : 'Name',
          current: credential === undefined ? '(credential missing)' : r.correctionField === 'email' ? credential.recipientEmail : credential.recipientName,
          requested: r.correctionValue,
          note: r.note,
          received: longDate(r.createdAt)
        }
      })
    })
  })

  app.get('/console/queues/corrections/:id/approve', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Approving a correction request: what the new version will say', tags: [TAG.console], params: idParams, response: page('The confirmation') }
  }, async (request, reply) => {
    const order = await pendingOrder(request.params.id, 'correction')
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, 'corrections')
    const credential = await findCredential(app.sql, order.credentialId ?? '')
    if (credential === undefined) throw missing(`Credential "${order.credentialId ?? ''}"`)
    const field = order.correctionField === 'email' ? 'email address' : 'name'
    const current = order.correctionField === 'email' ? credential.recipientEmail : credential.recipientName
    return sendConsolePage(request, reply, 'queue-confirm', {
      title: `Approve the correction for ${order.name}`,
      heading: 'Make the corrected version?',
      sentence: `Make version ${credential.currentVersion + 1} of ${app.urls.credential(credential.id)} with the ${field} "${order.correctionValue ?? ''}" instead of "${current}"; the earlier versions are superseded and the dates stay the same.`,
      action: `/console/queues/corrections/${order.id}/approve`,
      hidden: {},
      notify: 'Email the holder the corrected badge',
      note: true,
      button: 'Approve the correction',
      back: { href: '/console/queues/corrections', text: 'Back to the queue' }
    })
  })

  app.post('/console/queues/corrections/:id/approve', {
    ...posts,
    config: { scope: 'orders:admin', ...limited },
    schema: { summary: 'Approve a correction request: a new version of the credential, as POST /api/v1/orders/:id/approve does', tags: [TAG.console], params: idParams, body: approveBody, response: toQueue('corrections') }
  }, async (request, reply) => {
    const order = await pendingOrder(request.params.id, 'correction')
    if (order.state !== 'pending') return await alreadyDecided(request, reply, orderLabel(order), order, 'corrections')
    const note = request.body.note?.trim() ?? ''
    const result = await approveOrder(orderDeps(request), order.id, { ...(note === '' ? {} : { note }), notify: request.body.notify === 'yes' })
    if (result.issued === undefined) return await alreadyDecided(request, reply, orderLabel(order), result.order, 'corrections')
    return await reply.redirect(`/console/queues/corrections?done=approved&item=${order.id}`, 303)
  })

  app.get('/console/queues/corrections/:id/reject', {
    config: { scope: 'orders:admin' },
    schema: { summary: 'Rejecting a correction request: the reason the holder is emailed', tags: [TAG.console], params: idParams, response: page('The rejection form') }
  }, rejectPage('corrections', 'correction'))

  app.post('/console/queues/corrections/:id/reject', {
    ...posts,
    config: { scope: 'orders:admin', ...limited },
    schema: { summary: 'Reject a correction request with a reason (the holder is emailed)', tags: [TAG.console], params: idParams, body: rejectBody, response: toQueue('corrections') }
  }, rejectAction('corrections', 'correction'))

  // ---- Recertification applications ---------------------------------------

  /** An application as the rules judge it: its frozen activities counted as of the day it was made. */
  const judged = async (application: ApplicationRow): Promise<ApplicationJudgement & { words: string, refusal?: string }> => {
    const judgement = await judgeApplication(app.sql, application)
    const refusal = judgement.renewedSince?.message ?? judgement.progress.refusal?.message
    return { ...judgement, words: progressInWords(judgement.progress), ...(refusal === undefined ? {} : { refusal }) }
  }
  const activityView = (application: ApplicationRow, a: ActivityRow): Record<string, unknown> => ({
    title: a.title,
    provider: a.provider,
    completedOn: longDate(a.completedOn),
    points: formatPoints(a.points),
    category: a.category === 'approved' ? 'approved provider' : 'other',
    evidence: a.evidenceKind === 'upload'
      ? { href: `/console/queues/applications/${application.id}/activities/${a.id}/evidence`, text: `certificate${a.evidenceFilename === null ? '' : ` (${a.evidenceFilename})`}` }
      : a.evidenceKind === 'credential'
        ? { text: `verifiable CE credential (${(a.evidenceVerification as { status?: string } | null)?.status ?? 'recorded'})` }
        : { text: 'none' }
  })
  const pendingApplication = async (applicationId: string): Promise<ApplicationRow> => {
    const application = await findApplication(app.sql, applicationId)
    if (application === undefined) throw missing(`Recertification application "${applicationId}"`)
    return application
  }
  const applicationLabel = (a: ApplicationRow): string => `The recertification application of ${a.recipientName}`

  app.get('/console/queues/applications', {
    config: { scope: 'recertification:review' },
    schema: { summary: 'Pending recertification applications, oldest first: points against the rules, activities and evidence', tags: [TAG.console], querystring: queueQuery, response: page('The queue of recertification applications') }
  }, async (request, reply) => {
    const applications = await listApplications(app.sql, { state: 'pending', limit: 100 })
    const views = await Promise.all(applications.map(async (a) => {
      const j = await judged(a)
      return {
        id: a.id,
        holder: { name: a.recipientName, email: a.recipientEmail },
        credential: { record: consoleRecord(a.credentialId), url: app.urls.credential(a.credentialId), achievement: j.achievement.name },
        points: j.words,
        refusal: j.refusal,
        activities: j.activities.map((x) => activityView(a, x)),
        appliedAt: longDate(a.submittedAt)
      }
    }))
    return sendConsolePage(request, reply, 'queue-applications', { title: 'Recertification applications', done: await doneMessage('applications', request.query.done, request.query.item), applications: views })
  })

  app.get('/console/queues/applications/:id/activities/:activityId/evidence', {
    config: { scope: 'recertification:review' },
    schema: { summary: 'An activity\'s uploaded certificate, for the reviewer', tags: [TAG.console], params: evidenceParams, response: { 200: fileOf('The file as uploaded (its type proven by its bytes)', ['application/pdf', 'image/png', 'image/jpeg']), 403: htmlPage('The role lacks the scope'), 404: htmlPage('No such file') } }
  }, async (request, reply) => {
    const application = await pendingApplication(request.params.id)
    const activities = await listActivitiesOfApplication(app.sql, application.id)
    const file = activities.some((a) => a.id === request.params.activityId) ? await findEvidenceFile(app.sql, application.credentialId, request.params.activityId) : undefined
    if (file === undefined) throw missing('This certificate')
    return await reply.type(file.mediaType).header('Content-Disposition', `attachment; filename="${(file.filename ?? 'certificate').replace(/[^\w.-]+/g, '_')}"`).header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'private, no-store').send(file.bytes)
  })

  app.get('/console/queues/applications/:id/approve', {
    config: { scope: 'recertification:review' },
    schema: { summary: 'Approving a recertification application: the new version and its period', tags: [TAG.console], params: idParams, response: page('The confirmation') }
  }, async (request, reply) => {
    const application = await pendingApplication(request.params.id)
    if (application.state !== 'pending') return await alreadyDecided(request, reply, applicationLabel(application), application, 'applications')
    const j = await judged(application)
    const now = app.clock()
    const decision = j.renewedSince !== undefined
      ? { allowed: false as const, message: j.renewedSince.message }
      : decideRecertification({ policy: j.achievement.recertification as RecertificationPolicy | null, validityMonths: j.achievement.validityMonths, currentValidUntil: j.version.validUntil, request: { method: 'continuing-education', points: j.points, appliedAt: application.submittedAt }, now })
    const refusal = decision.allowed ? undefined : decision.message
    return sendConsolePage(request, reply, 'queue-confirm', {
      title: `Approve the application of ${application.recipientName}`,
      heading: 'Recertify this badge?',
      sentence: decision.allowed
        ? `Recertify ${application.recipientName}'s ${j.achievement.name} badge by continuing education (${j.words}): version ${j.version.version + 1} under the same URL, valid until ${longDate(decision.validUntil) ?? ''}; the holder is emailed.`
        : `The rules refuse this application now: ${refusal ?? ''} Reject it with a reason instead.`,
      action: `/console/queues/applications/${application.id}/approve`,
      hidden: {},
      note: decision.allowed,
      button: decision.allowed ? 'Approve and recertify' : undefined,
      back: { href: '/console/queues/applications', text: 'Back to the queue' }
    })
  })

  app.post('/console/queues/applications/:id/approve', {
    ...posts,
    config: { scope: 'recertification:review', ...limited },
    schema: { summary: 'Approve a recertification application: a new version, as POST /api/v1/recertification-applications/:id/approve does', tags: [TAG.console], params: idParams, body: approveBody, response: toQueue('applications') }
  }, async (request, reply) => {
    const application = await pendingApplication(request.params.id)
    if (application.state !== 'pending') return await alreadyDecided(request, reply, applicationLabel(application), application, 'applications')
    const note = request.body.note?.trim() ?? ''
    await approveApplication(reissueDeps(request), application.id, note === '' ? undefined : note)
    return await reply.redirect(`/console/queues/applications?done=approved&item=${application.id}`, 303)
  })

  app.get('/console/queues/applications/:id/reject', {
    config: { scope: 'recertification:review' },
    schema: { summary: 'Rejecting a recertification application: the reason the holder is emailed', tags: [TAG.console], params: idParams, response: page('The rejection form') }
  }, async (request, reply) => {
    const application = await pendingApplication(request.params.id)
    if (application.state !== 'pending') return await alreadyDecided(request, reply, applicationLabel(application), application, 'applications')
    return sendConsolePage(request, reply, 'queue-confirm', {
      title: `Reject the application of ${application.recipientName}`,
      heading: 'Reject this application?',
      sentence: `Reject ${application.recipientName}'s recertification application of ${longDate(application.submittedAt) ?? ''}. ${application.recipientName} (${application.recipientEmail}) is emailed the reason you give, and the activities return to their record for a later application.`,
      action: `/console/queues/applications/${application.id}/reject`,
      hidden: {},
      reason: true,
      button: 'Reject and email the reason',
      danger: true,
      back: { href: '/console/queues/applications', text: 'Back to the queue' }
    })
  })

  app.post('/console/queues/applications/:id/reject', {
    ...posts,
    config: { scope: 'recertification:review', ...limited },
    schema: { summary: 'Reject a recertification application with a reason (the holder is emailed)', tags: [TAG.console], params: idParams, body: rejectBody, response: toQueue('applications') }
  }, async (request, reply) => {
    const application = await pendingApplication(request.params.id)
    if (application.state !== 'pending') return await alreadyDecided(request, reply, applicationLabel(application), application, 'applications')
    await rejectApplication({ sql: app.sql, now: app.clock(), actor: staffOf(request).actor, requestId: request.id, outbox: app.outbox, urls: app.urls }, application.id, request.body.reason.trim())
    return await reply.redirect(`/console/queues/applications?done=rejected&item=${application.id}`, 303)
  })
}
