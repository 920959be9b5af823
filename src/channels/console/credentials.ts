import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listAuditEvents } from '../../capabilities/audit/store.js'
import { credentialHistory, searchCredentials, type CredentialState } from '../../capabilities/back-office/store.js'
import { findAchievement, listAchievements } from '../../capabilities/achievements/store.js'
import { correctCredential, recertifyCredential } from '../../capabilities/credentials/recertify/reissue-credential.js'
import { revokeCredential } from '../../capabilities/credentials/revoke/revoke-credential.js'
import { findCredential, listVersions, type CredentialRow } from '../../capabilities/credentials/store.js'
import { endSessionsOfPreviousAddress } from '../../capabilities/holders/store.js'
import { resendCredentialEmail } from '../../capabilities/notifications/email/resend.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { addMonths } from '../../kernel/time.js'
import { usageSummary } from '../../capabilities/usage/summary.js'
import { USAGE_KINDS } from '../../capabilities/usage/kinds.js'
import { USAGE_LABELS } from './dashboard.js'
import { may, sendConsolePage } from './page.js'

const PAGE_SIZE = 25
const STATES: Record<CredentialState, string> = { valid: 'Valid', expiring: 'Expiring within 90 days', grace: 'In the grace window', expired: 'Expired', revoked: 'Revoked' }
const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const day = { type: 'string', anyOf: [{ maxLength: 0 }, { format: 'date' }] } as const
const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } as const
const toCredential = (description: string): Record<number, unknown> => ({ 303: noBody(description, { Location: { type: 'string', description: 'The credential\'s console page' } }) })
/** The second step of an action form: without it, the post shows what will happen and asks again. */
const confirmed = { type: 'string', enum: ['yes'] } as const

function stateOf (row: CredentialRow, now: Date): string {
  if (row.revokedAt !== null) return 'Revoked'
  if (row.currentValidUntil !== null && row.currentValidUntil <= now) return 'Expired'
  return 'Valid'
}

/**
 * Search, a credential's page (versions, audit trail, emails and webhook
 * deliveries), and the actions staff take on one: correct, recertify by
 * exam, revoke, resend the holder's email. Each action is a form whose first
 * post answers a confirmation page saying what will happen; the second
 * (confirmed=yes) does it, through the same functions as the staff API, with
 * the staff user as the audited actor.
 */
export async function credentialsRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)
  const versionDeps = (request: FastifyRequest): Parameters<typeof recertifyCredential>[0] =>
    ({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes })
  const credentialOr404 = async (id: string): Promise<CredentialRow> => {
    const credential = await findCredential(app.sql, id)
    if (credential === undefined) throw notFound(`The credential ${id}`)
    return credential
  }
  const confirm = (request: FastifyRequest, reply: FastifyReply, credential: CredentialRow, action: { heading: string, consequences: string[], url: string, button: string, danger?: boolean, fields: Record<string, string> }): FastifyReply =>
    sendConsolePage(request, reply, 'confirm', { title: action.heading, credential: { id: credential.id, holder: credential.recipientName }, ...action })

  app.get('/console/credentials', {
    config: { scope: 'credentials:read' },
    schema: {
      summary: 'Search credentials by name, email, certificate number, status, achievement and dates',
      tags: [TAG.console],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          q: text(320),
          state: { type: 'string', enum: ['', ...Object.keys(STATES)] },
          achievementId: { type: 'string', anyOf: [{ maxLength: 0 }, { pattern: ID_PATTERN }] },
          issuedFrom: day,
          issuedTo: day,
          within: { type: 'integer', minimum: 1, maximum: 3650 },
          page: { type: 'integer', minimum: 1, maximum: 10000 }
        }
      },
      response: { 200: htmlPage('The search form and its results') }
    }
  }, async (request, reply) => {
    const query = request.query
    const now = app.clock()
    const page = query.page ?? 1
    const state = query.state === '' || query.state === undefined ? undefined : query.state as CredentialState
    const asked = [query.q, query.state, query.achievementId, query.issuedFrom, query.issuedTo].some((v) => v !== undefined && v !== '')
    const found = asked
      ? await searchCredentials(app.sql, {
        ...(query.q !== undefined && query.q.trim() !== '' ? { text: query.q } : {}),
        ...(state !== undefined ? { state } : {}),
        ...(query.achievementId !== undefined && query.achievementId !== '' ? { achievementId: query.achievementId } : {}),
        ...(query.issuedFrom !== undefined && query.issuedFrom !== '' ? { issuedFrom: new Date(`${query.issuedFrom}T00:00:00Z`) } : {}),
        ...(query.issuedTo !== undefined && query.issuedTo !== '' ? { issuedTo: new Date(new Date(`${query.issuedTo}T00:00:00Z`).getTime() + 86_400_000) } : {}),
        ...(state === 'expiring' && query.within !== undefined ? { expiresFrom: now, expiresTo: new Date(now.getTime() + query.within * 86_400_000) } : {}),
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE
      }, now)
      : undefined
    const achievements = await listAchievements(app.sql, { limit: 200 })
    const params = (p: number): string => {
      const search = new URLSearchParams()
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '' && k !== 'page') search.set(k, String(v))
      search.set('page', String(p))
      return `/console/credentials?${search.toString()}`
    }
    return sendConsolePage(request, reply, 'credentials', {
      title: 'Search credentials',
      query: { q: query.q ?? '', state: query.state ?? '', achievementId: query.achievementId ?? '', issuedFrom: query.issuedFrom ?? '', issuedTo: query.issuedTo ?? '' },
      states: Object.entries(STATES).map(([value, label]) => ({ value, label })),
      achievements: achievements.map((a) => ({ id: a.id, name: a.name })),
      results: found === undefined
        ? undefined
        : {
            total: found.total,
            from: found.total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1,
            to: (page - 1) * PAGE_SIZE + found.rows.length,
            rows: found.rows.map((row) => ({ id: row.id, holder: row.recipientName, email: row.recipientEmail, certificateNumber: row.certificateNumber ?? '', achievement: row.achievementName, state: stateOf(row, now), validUntil: longDate(row.currentValidUntil) ?? 'Never', issued: longDate(row.issuedAt) })),
            previous: page > 1 ? params(page - 1) : undefined,
            next: page * PAGE_SIZE < found.total ? params(page + 1) : undefined
          }
    })
  })

  app.get('/console/credentials/:id', {
    config: { scope: 'credentials:read' },
    schema: {
      summary: 'A credential: its versions, audit trail, emails, webhook deliveries and actions',
      tags: [TAG.console],
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { done: { type: 'string', enum: ['corrected', 'recertified', 'revoked', 'emailed'] } } },
      response: { 200: htmlPage('The credential\'s page'), 404: htmlPage('No such credential') }
    }
  }, async (request, reply) => {
    const credential = await credentialOr404(request.params.id)
    const now = app.clock()
    await app.usageCounts.flush()
    const [versions, audit, history, achievement, usage] = await Promise.all([
      listVersions(app.sql, credential.id),
      listAuditEvents(app.sql, { subjectType: 'credential', subjectId: credential.id, limit: 200 }),
      credentialHistory(app.sql, credential.id),
      findAchievement(app.sql, credential.achievementId),
      usageSummary(app.sql, { credentialId: credential.id, days: 365, now })
    ])
    const done = { corrected: 'Corrected: a new version is issued under the same URL.', recertified: 'Recertified: a new version is issued under the same URL.', revoked: 'Revoked.', emailed: 'The email is queued to the holder.' }
    return sendConsolePage(request, reply, 'credential', {
      title: `${credential.recipientName}: ${achievement?.name ?? 'credential'}`,
      done: request.query.done === undefined ? undefined : done[request.query.done],
      credential: {
        id: credential.id,
        url: app.urls.credential(credential.id),
        holder: credential.recipientName,
        email: credential.recipientEmail,
        certificateNumber: credential.certificateNumber,
        achievement: achievement?.name ?? credential.achievementId,
        state: stateOf(credential, now),
        validUntil: longDate(credential.currentValidUntil) ?? 'Never',
        version: credential.currentVersion,
        hidden: credential.hiddenByHolderAt !== null,
        revocation: credential.revokedAt === null ? undefined : { at: longDate(credential.revokedAt), reason: credential.revocationReason }
      },
      versions: versions.map((v) => ({ number: v.version, kind: v.kind, reason: v.reason ?? '', holder: v.recipientName, validFrom: longDate(v.validFrom), validUntil: longDate(v.validUntil) ?? 'Never', issued: longDate(v.issuedAt), url: app.urls.credentialVersion(credential.id, v.version) })),
      audit: audit.map((e) => ({ at: `${e.occurredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`, actor: e.actorName ?? e.actor, action: e.action, version: e.version ?? '', reason: e.reason ?? '' })),
      emails: history.emails.map((e) => ({ kind: e.kind, state: e.state, created: longDate(e.createdAt), sent: longDate(e.sentAt) ?? '' })),
      usage: { from: usage.from, rows: USAGE_KINDS.map((kind) => ({ label: USAGE_LABELS[kind], count: usage.totals[kind] })) },
      deliveries: history.webhookDeliveries.map((d) => ({ url: d.webhookUrl, event: d.eventType, state: d.state, attempts: d.attempts, created: longDate(d.createdAt) })),
      actions: credential.revokedAt !== null
        ? undefined
        : { correct: may(request, 'credentials:reissue'), recertify: may(request, 'credentials:reissue') && achievement?.recertification?.exam === true, revoke: may(request, 'credentials:revoke'), resend: may(request, 'credentials:reissue') }
    })
  })

  app.post('/console/credentials/:id/correct', {
    ...posts,
    config: { scope: 'credentials:reissue', ...limited },
    schema: {
      summary: 'Correct the holder\'s name or email (asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['name', 'email'], properties: { _csrf: text(200), name: text(200), email: text(320), note: text(1000), notify: { type: 'string', enum: ['yes', 'no'] }, confirmed } },
      response: { 200: htmlPage('What will happen, and a button to confirm'), ...toCredential('Corrected') }
    }
  }, async (request, reply) => {
    const credential = await credentialOr404(request.params.id)
    const name = request.body.name.trim()
    const email = request.body.email.trim()
    const recipient = { ...(name !== credential.recipientName ? { name } : {}), ...(email.toLowerCase() !== credential.recipientEmail ? { email } : {}) }
    if (Object.keys(recipient).length === 0) throw new AppError('validation_failed', 'The name and email are as they are now: nothing to correct.')
    const notify = request.body.notify !== 'no'
    if (request.body.confirmed !== 'yes') {
      return confirm(request, reply, credential, {
        heading: 'Correct this credential?',
        consequences: [
          ...(recipient.name !== undefined ? [`The name changes from “${credential.recipientName}” to “${recipient.name}”.`] : []),
          ...(recipient.email !== undefined ? [`The email changes from ${credential.recipientEmail} to ${recipient.email}; the holder's portal sessions under the old address end.`] : []),
          `Version ${credential.currentVersion + 1} is signed under the same URL; version ${credential.currentVersion} is marked superseded.`,
          notify ? 'The holder is emailed the corrected badge.' : 'No email is sent.'
        ],
        url: `/console/credentials/${credential.id}/correct`,
        button: 'Correct it',
        fields: { name, email, note: request.body.note ?? '', notify: notify ? 'yes' : 'no', confirmed: 'yes' }
      })
    }
    const deps = versionDeps(request)
    await correctCredential({ ...deps, onRecipientEmailChanged: endSessionsOfPreviousAddress(deps.now) }, credential.id, { reason: 'correction', recipient, ...(request.body.note !== undefined && request.body.note.trim() !== '' ? { note: request.body.note.trim() } : {}), notify })
    return await reply.redirect(`/console/credentials/${credential.id}?done=corrected`, 303)
  })

  app.post('/console/credentials/:id/recertify', {
    ...posts,
    config: { scope: 'credentials:reissue', ...limited },
    schema: {
      summary: 'Recertify by exam (asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { _csrf: text(200), note: text(1000), confirmed } },
      response: { 200: htmlPage('What will happen, and a button to confirm'), ...toCredential('Recertified') }
    }
  }, async (request, reply) => {
    const credential = await credentialOr404(request.params.id)
    if (request.body.confirmed !== 'yes') {
      const achievement = await findAchievement(app.sql, credential.achievementId)
      const months = achievement?.validityMonths
      return confirm(request, reply, credential, {
        heading: 'Recertify by exam?',
        consequences: [
          `${credential.recipientName} passed the exam: version ${credential.currentVersion + 1} is signed under the same URL${months != null ? `, valid until ${longDate(addMonths(app.clock(), months)) ?? ''} (${months} months)` : ''}.`,
          'The achievement\'s rules decide whether an exam renewal is allowed; if they refuse, nothing changes and the reason is shown.',
          'The holder is emailed the renewed badge.'
        ],
        url: `/console/credentials/${credential.id}/recertify`,
        button: 'Recertify',
        fields: { note: request.body.note ?? '', confirmed: 'yes' }
      })
    }
    await recertifyCredential(versionDeps(request), credential.id, { method: 'exam', ...(request.body.note !== undefined && request.body.note.trim() !== '' ? { note: request.body.note.trim() } : {}) })
    return await reply.redirect(`/console/credentials/${credential.id}?done=recertified`, 303)
  })

  app.post('/console/credentials/:id/revoke', {
    ...posts,
    config: { scope: 'credentials:revoke', ...limited },
    schema: {
      summary: 'Revoke with a reason (asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: { type: 'object', additionalProperties: false, required: ['reason'], properties: { _csrf: text(200), reason: text(1000), confirmed } },
      response: { 200: htmlPage('What will happen, and a button to confirm'), ...toCredential('Revoked') }
    }
  }, async (request, reply) => {
    const credential = await credentialOr404(request.params.id)
    const reason = request.body.reason.trim()
    if (reason === '') throw new AppError('validation_failed', 'Give the reason for revoking: verifiers and the audit trail show it.')
    if (request.body.confirmed !== 'yes') {
      return confirm(request, reply, credential, {
        heading: 'Revoke this credential?',
        consequences: [
          `Every version of ${credential.recipientName}'s credential stops verifying: the status list says revoked, with the reason “${reason}”.`,
          'Its page says it is revoked. This cannot be undone; a new badge would be a new credential.',
          'Webhook subscribers are told; the holder is not emailed.'
        ],
        url: `/console/credentials/${credential.id}/revoke`,
        button: 'Revoke',
        danger: true,
        fields: { reason, confirmed: 'yes' }
      })
    }
    await revokeCredential({ sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }, credential.id, reason)
    return await reply.redirect(`/console/credentials/${credential.id}?done=revoked`, 303)
  })

  app.post('/console/credentials/:id/resend-email', {
    ...posts,
    config: { scope: 'credentials:reissue', ...limited },
    schema: {
      summary: 'Send the holder their badge email again (asks to confirm first)',
      tags: [TAG.console],
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { _csrf: text(200), confirmed } },
      response: { 200: htmlPage('What will happen, and a button to confirm'), ...toCredential('Queued') }
    }
  }, async (request, reply) => {
    const credential = await credentialOr404(request.params.id)
    if (request.body.confirmed !== 'yes') {
      return confirm(request, reply, credential, {
        heading: 'Send the badge email again?',
        consequences: [`${credential.recipientEmail} is sent the email of the current version (${credential.currentVersion}) again: the link to the badge, how to share it and when it expires.`],
        url: `/console/credentials/${credential.id}/resend-email`,
        button: 'Send it',
        fields: { confirmed: 'yes' }
      })
    }
    await resendCredentialEmail({ sql: app.sql, jobs: app.jobs, now: app.clock(), actor: staffOf(request).actor, requestId: request.id }, credential.id)
    return await reply.redirect(`/console/credentials/${credential.id}?done=emailed`, 303)
  })
}
