import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { changeStaffRole, createEnrolmentLink, createStaffUser, disableStaffUser, ENROLMENT_HOURS, staffActor, type StaffAdminDeps } from '../../capabilities/staff-accounts/accounts.js'
import { isRole, ROLE_NAMES, ROLE_SCOPES, ROLES } from '../../capabilities/staff-accounts/roles.js'
import { findStaffUser, listStaffUsers } from '../../capabilities/staff-accounts/store.js'
import { createApiKey, listApiKeys, revokeStaffKey } from '../../capabilities/staff-access/api-keys.js'
import { BOOTSTRAP_KEY_ID, keyPrefix, SCOPES, staffOf, type Scope } from '../../capabilities/staff-access/bearer-auth.js'
import { changeWebhook, registerWebhook, retryDelivery, sendTestEvent, type WebhookAdminDeps } from '../../capabilities/notifications/webhooks/service.js'
import { findDelivery, findWebhook, listDeliveries, listWebhooks, type AttemptRow, type DeliveryRow, type WebhookRow } from '../../capabilities/notifications/webhooks/store.js'
import { MAX_MATCHER_LENGTH } from '../../capabilities/registry/matching.js'
import { addRecognisedIssuer, removeRecognisedIssuer, type RegistryDeps } from '../../capabilities/registry/service.js'
import { findEntry, listEntries } from '../../capabilities/registry/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody, problems } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { EVENT_TYPES } from '../../infrastructure/jobs/outbox.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { AppError, notFound } from '../../kernel/errors.js'
import { may, sendConsoleMessage, sendConsolePage } from './page.js'

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const csrf = { _csrf: text(200) } as const
const justCsrf = { type: 'object', additionalProperties: false, properties: csrf } as const
const idOnly = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } as const
const keyId = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^([A-Za-z0-9]{12}|bootstrap)$' } } } as const
const deliveryOf = { type: 'object', additionalProperties: false, required: ['id', 'deliveryId'], properties: { id: { type: 'string', pattern: ID_PATTERN }, deliveryId: { type: 'string', format: 'uuid' } } } as const

/** A page, and what the console's error handler answers instead (a refusal page; a malformed form as a problem). */
const pageResponses = (description: string): Record<string, unknown> => ({
  200: htmlPage(description),
  303: noBody('To the sign-in page, when not signed in', { Location: { type: 'string', description: '/console/sign-in?next=...' } }),
  400: { description: 'A field the form cannot have sent (a problem), or one the domain refused (a page)', content: { ...htmlPage('').content, ...problems(400)['400']!.content } },
  403: htmlPage('Refused: the role lacks the scope, or the form expired'),
  404: htmlPage('Not found'),
  409: htmlPage('Refused: the change is not possible now (the page says why)')
})
const redirectResponses = (to: string): Record<string, unknown> => ({ ...pageResponses('A result page'), 303: noBody(`To ${to}`, { Location: { type: 'string', description: to } }) })

/** The index's sections, each shown to a role holding its scope. */
const SECTIONS: Array<{ href: string, name: string, text: string, scope: Scope }> = [
  { href: '/console/admin/staff', name: 'Staff users', text: 'add people, change their role, disable them, give them a new enrolment link.', scope: 'staff:admin' },
  { href: '/console/admin/keys', name: 'API keys', text: 'keys for the body\'s own systems, with the scopes they may use.', scope: 'keys:admin' },
  { href: '/console/admin/webhooks', name: 'Webhooks', text: 'endpoints told about credential events, their deliveries, a test event.', scope: 'webhooks:admin' },
  { href: '/console/admin/registry', name: 'Recognised issuers', text: 'other issuers whose credentials this body recognises.', scope: 'registry:admin' }
]

const when = (d: Date | null | undefined): string => d == null ? '' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
const blankless = (value: string | undefined): string | undefined => value === undefined || value.trim() === '' ? undefined : value.trim()
const asList = (value: string | readonly string[] | undefined): string[] => value === undefined ? [] : typeof value === 'string' ? [value] : [...value]

const deliveryView = (d: DeliveryRow & { attemptLog: AttemptRow[] }, hook: WebhookRow): Record<string, unknown> => {
  const last = d.attemptLog.at(-1)
  return {
    id: d.id,
    webhookId: hook.id,
    webhookUrl: hook.url,
    eventType: d.eventType,
    state: d.state,
    attempts: d.attempts,
    createdAt: when(d.createdAt),
    lastAnswer: last === undefined ? 'not tried yet' : last.statusCode !== null ? `HTTP ${last.statusCode}` : `no answer (${last.error ?? 'unknown'})`
  }
}

/**
 * Administration: staff users, API keys, webhooks and the registry of
 * recognised issuers, each behind its own scope (staff:admin, keys:admin,
 * webhooks:admin, registry:admin), over the same capability functions as the
 * staff API. Every change is confirmed first and audited by the function it
 * calls, with the staff user as actor. Secrets (an enrolment link, an API
 * key, a webhook's signing secret) are shown once, on the page that answers
 * the form that made them, never stored where a later page could show them.
 */
export async function administrationRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)
  const actor = (request: FastifyRequest): string => staffOf(request).actor
  const staffDeps = (request: FastifyRequest): StaffAdminDeps => ({ sql: app.sql, actor: actor(request), now: app.clock(), requestId: request.id, baseUrl: app.config.publicBaseUrl })
  const webhookDeps = (request: FastifyRequest): WebhookAdminDeps => ({ sql: app.sql, actor: actor(request), now: app.clock(), requestId: request.id, allowLoopback: app.config.outbound.allowLoopback })
  const registryDeps = (request: FastifyRequest): RegistryDeps => ({ sql: app.sql, actor: actor(request), now: app.clock(), requestId: request.id, changes: app.changes })
  const summary = (text: string): { summary: string, tags: string[] } => ({ summary: text, tags: [TAG.console] })

  app.get('/console/admin', {
    config: { scope: 'staff:admin' },
    schema: { ...summary('Administration: staff users, API keys, webhooks, recognised issuers'), response: pageResponses('The administration index') }
  }, async (request, reply) => sendConsolePage(request, reply, 'admin', { title: 'Administration', sections: SECTIONS.filter((section) => may(request, section.scope)) }))

  // Staff users (staff:admin).

  const staffUser = async (id: string): Promise<NonNullable<Awaited<ReturnType<typeof findStaffUser>>>> => {
    const user = await findStaffUser(app.sql, id)
    if (user === undefined) throw notFound(`The staff user ${id}`)
    return user
  }

  app.get('/console/admin/staff', {
    config: { scope: 'staff:admin' },
    schema: { ...summary('Staff users, and a form to add one'), response: pageResponses('The staff users') }
  }, async (request, reply) => {
    const me = request.staffUser?.id
    const users = (await listStaffUsers(app.sql)).map((u) => ({
      id: u.id,
      name: u.name,
      email: u.email,
      role: u.role,
      roleName: ROLE_NAMES[u.role],
      singleSignOn: u.oidcSubject !== null,
      disabled: when(u.disabledAt),
      you: u.id === me
    }))
    return sendConsolePage(request, reply, 'admin-staff', { title: 'Staff users', users, roles: ROLES.map((r) => ({ value: r, name: ROLE_NAMES[r] })) })
  })

  app.post('/console/admin/staff', {
    ...posts,
    config: { scope: 'staff:admin', ...limited },
    schema: {
      ...summary('Add a staff user: answers with their enrolment link, shown once'),
      body: { type: 'object', additionalProperties: false, required: ['name', 'email', 'role'], properties: { ...csrf, name: text(200), email: text(320), role: { type: 'string', enum: ROLES } } } as const,
      response: pageResponses('The new user\'s enrolment link (shown once)')
    }
  }, async (request, reply) => {
    const { user, enrolmentUrl } = await createStaffUser(staffDeps(request), { name: request.body.name, email: request.body.email, role: request.body.role })
    return sendConsolePage(request, reply, 'admin-once', {
      title: `${user.name} was added`,
      lead: `${user.name} (${user.email}) is a staff user with the role ${ROLE_NAMES[user.role]}. They register their passkey with this enrolment link.`,
      label: 'Enrolment link',
      value: enrolmentUrl,
      note: `Give this link to the person; it works once for ${ENROLMENT_HOURS} hours. It is shown only now.`,
      next: { href: '/console/admin/staff', text: 'Back to the staff users' }
    })
  })

  app.get('/console/admin/staff/:id/role', {
    config: { scope: 'staff:admin' },
    schema: {
      ...summary('Confirm a role change: what the new role may do'),
      params: idOnly,
      querystring: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: { type: 'string', enum: ROLES } } },
      response: pageResponses('The confirmation')
    }
  }, async (request, reply) => {
    const user = await staffUser(request.params.id)
    const role = request.query.role
    const self = actor(request) === staffActor(user.id)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: `Change the role of ${user.name}`,
      lead: `${user.name} is ${ROLE_NAMES[user.role]} now. As ${ROLE_NAMES[role]}, from their next page on, they may:`,
      points: ROLE_SCOPES[role],
      ...(self && role !== 'admin' ? { warning: 'This is your own account: you cannot lower your own role. Ask another administrator.' } : {}),
      action: `/console/admin/staff/${user.id}/role`,
      fields: { role },
      button: `Make ${user.name} ${ROLE_NAMES[role]}`,
      danger: false,
      cancel: '/console/admin/staff'
    })
  })

  app.post('/console/admin/staff/:id/role', {
    ...posts,
    config: { scope: 'staff:admin', ...limited },
    schema: { ...summary('Change a staff user\'s role (audited)'), params: idOnly, body: { type: 'object', additionalProperties: false, required: ['role'], properties: { ...csrf, role: { type: 'string', enum: ROLES } } } as const, response: redirectResponses('/console/admin/staff') }
  }, async (request, reply) => {
    const role = request.body.role
    if (!isRole(role)) throw new AppError('validation_failed', `"role" must be one of ${ROLES.join(', ')}.`)
    await changeStaffRole(staffDeps(request), request.params.id, role)
    return await reply.redirect('/console/admin/staff', 303)
  })

  app.get('/console/admin/staff/:id/disable', {
    config: { scope: 'staff:admin' },
    schema: { ...summary('Confirm disabling a staff user'), params: idOnly, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const user = await staffUser(request.params.id)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: `Disable ${user.name}`,
      lead: `Disable ${user.name} (${user.email})? Their sessions end now and their passkeys stop working; single sign-on no longer signs them in.`,
      ...(actor(request) === staffActor(user.id) ? { warning: 'This is your own account: you cannot disable yourself. Ask another administrator.' } : {}),
      action: `/console/admin/staff/${user.id}/disable`,
      fields: {},
      button: `Disable ${user.name}`,
      danger: true,
      cancel: '/console/admin/staff'
    })
  })

  app.post('/console/admin/staff/:id/disable', {
    ...posts,
    config: { scope: 'staff:admin', ...limited },
    schema: { ...summary('Disable a staff user: their sessions end (audited)'), params: idOnly, body: justCsrf, response: redirectResponses('/console/admin/staff') }
  }, async (request, reply) => {
    await disableStaffUser(staffDeps(request), request.params.id)
    return await reply.redirect('/console/admin/staff', 303)
  })

  app.get('/console/admin/staff/:id/enrolment', {
    config: { scope: 'staff:admin' },
    schema: { ...summary('Confirm making a new enrolment link'), params: idOnly, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const user = await staffUser(request.params.id)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: `A new enrolment link for ${user.name}`,
      lead: `Whoever holds the new link can register a passkey for ${user.name} (a new device, or one lost), once, within ${ENROLMENT_HOURS} hours. Their passkeys so far keep working.`,
      action: `/console/admin/staff/${user.id}/enrolment`,
      fields: {},
      button: 'Make the link',
      danger: false,
      cancel: '/console/admin/staff'
    })
  })

  app.post('/console/admin/staff/:id/enrolment', {
    ...posts,
    config: { scope: 'staff:admin', ...limited },
    schema: { ...summary('Make a new enrolment link (shown once; audited)'), params: idOnly, body: justCsrf, response: pageResponses('The link (shown once)') }
  }, async (request, reply) => {
    const user = await staffUser(request.params.id)
    const link = await createEnrolmentLink(staffDeps(request), user.id)
    return sendConsolePage(request, reply, 'admin-once', {
      title: `A new enrolment link for ${user.name}`,
      lead: `${user.name} registers a passkey with this link.`,
      label: 'Enrolment link',
      value: link,
      note: `Give this link to the person; it works once for ${ENROLMENT_HOURS} hours. It is shown only now.`,
      next: { href: '/console/admin/staff', text: 'Back to the staff users' }
    })
  })

  // API keys (keys:admin).

  app.get('/console/admin/keys', {
    config: { scope: 'keys:admin' },
    schema: { ...summary('Staff API keys (never their secrets)'), response: pageResponses('The API keys') }
  }, async (request, reply) => {
    const now = app.clock()
    const keys = (await listApiKeys(app.sql)).map((k) => ({
      id: k.id,
      prefix: k.id === BOOTSTRAP_KEY_ID ? '(ADMIN_API_KEY)' : keyPrefix(k.id),
      name: k.name,
      scopes: k.scopes.join(', '),
      createdAt: when(k.createdAt),
      expiresAt: when(k.expiresAt),
      lastUsedAt: when(k.lastUsedAt),
      state: k.revokedAt !== null ? `Revoked ${when(k.revokedAt)}` : k.expiresAt !== null && k.expiresAt <= now ? 'Expired' : 'Active',
      revocable: k.revokedAt === null && k.id !== BOOTSTRAP_KEY_ID
    }))
    return sendConsolePage(request, reply, 'admin-keys', { title: 'API keys', keys })
  })

  app.get('/console/admin/keys/new', {
    config: { scope: 'keys:admin' },
    schema: { ...summary('The form to create an API key'), response: pageResponses('The form') }
  }, async (request, reply) => sendConsolePage(request, reply, 'admin-key-new', { title: 'Create an API key', scopes: SCOPES }))

  app.post('/console/admin/keys', {
    ...posts,
    config: { scope: 'keys:admin', ...limited },
    schema: {
      ...summary('Create an API key: answers with the key, shown once (audited)'),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          ...csrf,
          name: text(100),
          // One ticked box is a string, several an array (application/x-www-form-urlencoded).
          scopes: { anyOf: [{ type: 'string', enum: SCOPES }, { type: 'array', maxItems: SCOPES.length, items: { type: 'string', enum: SCOPES } }] },
          expiresOn: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' }
        }
      } as const,
      response: pageResponses('The new key (shown once)')
    }
  }, async (request, reply) => {
    const name = blankless(request.body.name)
    if (name === undefined) throw new AppError('validation_failed', 'A key needs a "name": who or what uses it.')
    const scopes = asList(request.body.scopes as Scope | Scope[] | undefined) as Scope[]
    if (scopes.length === 0) throw new AppError('validation_failed', 'Tick at least one scope: a key without one can do nothing.')
    const expiresOn = blankless(request.body.expiresOn)
    // The key works through the day it expires on (UTC).
    const expiresAt = expiresOn === undefined ? undefined : new Date(`${expiresOn}T23:59:59Z`)
    if (expiresAt !== undefined && Number.isNaN(expiresAt.getTime())) throw new AppError('validation_failed', `"expiresOn" ${expiresOn} is not a date.`)
    const { key, row } = await createApiKey({ sql: app.sql, actor: actor(request), now: app.clock(), requestId: request.id }, { name, scopes, ...(expiresAt !== undefined ? { expiresAt } : {}) })
    return sendConsolePage(request, reply, 'admin-once', {
      title: `The key "${row.name}" was created`,
      lead: `Scopes: ${row.scopes.join(', ')}. ${row.expiresAt === null ? 'It does not expire.' : `It expires ${when(row.expiresAt)}.`}`,
      label: 'API key',
      value: key,
      note: 'Copy the key now into the system that uses it: it is shown only now (only a hash of it is kept). Send it as "Authorization: Bearer <key>".',
      next: { href: '/console/admin/keys', text: 'Back to the API keys' }
    })
  })

  app.get('/console/admin/keys/:id/revoke', {
    config: { scope: 'keys:admin' },
    schema: { ...summary('Confirm revoking an API key'), params: keyId, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const key = (await listApiKeys(app.sql)).find((k) => k.id === request.params.id)
    if (key === undefined) throw notFound(`API key "${request.params.id}"`)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: `Revoke the key "${key.name}"`,
      lead: `Revoke ${keyPrefix(key.id)} ("${key.name}", scopes ${key.scopes.join(', ')})? Every request made with it is refused from now on; this cannot be undone (create a new key instead).`,
      action: `/console/admin/keys/${key.id}/revoke`,
      fields: {},
      button: 'Revoke the key',
      danger: true,
      cancel: '/console/admin/keys'
    })
  })

  app.post('/console/admin/keys/:id/revoke', {
    ...posts,
    config: { scope: 'keys:admin', ...limited },
    schema: { ...summary('Revoke an API key (audited)'), params: keyId, body: justCsrf, response: redirectResponses('/console/admin/keys') }
  }, async (request, reply) => {
    await revokeStaffKey({ sql: app.sql, actor: actor(request), now: app.clock(), requestId: request.id }, request.params.id)
    return await reply.redirect('/console/admin/keys', 303)
  })

  // Webhooks (webhooks:admin).

  const webhook = async (id: string): Promise<WebhookRow> => {
    const row = await findWebhook(app.sql, id)
    if (row === undefined) throw notFound(`Webhook "${id}"`)
    return row
  }
  const hookView = (w: WebhookRow): Record<string, unknown> => ({ id: w.id, url: w.url, description: w.description ?? '', events: w.eventTypes.join(', '), enabled: w.enabled, createdAt: when(w.createdAt), disabledAt: when(w.disabledAt) })

  app.get('/console/admin/webhooks', {
    config: { scope: 'webhooks:admin' },
    schema: { ...summary('Webhook endpoints, and their failed deliveries'), response: pageResponses('The webhooks') }
  }, async (request, reply) => {
    const hooks = await listWebhooks(app.sql)
    const failed = (await Promise.all(hooks.map(async (w) => (await listDeliveries(app.sql, w.id, { limit: 20, state: 'failed' })).map((d) => deliveryView(d, w))))).flat()
    return sendConsolePage(request, reply, 'admin-webhooks', { title: 'Webhooks', hooks: hooks.map(hookView), failed })
  })

  app.get('/console/admin/webhooks/new', {
    config: { scope: 'webhooks:admin' },
    schema: { ...summary('The form to register a webhook endpoint'), response: pageResponses('The form') }
  }, async (request, reply) => sendConsolePage(request, reply, 'admin-webhook-new', { title: 'Register a webhook', events: EVENT_TYPES }))

  app.post('/console/admin/webhooks', {
    ...posts,
    config: { scope: 'webhooks:admin', ...limited },
    schema: {
      ...summary('Register a webhook endpoint: answers with its signing secret, shown once (audited)'),
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          ...csrf,
          url: text(2000),
          events: { anyOf: [{ type: 'string', enum: EVENT_TYPES }, { type: 'array', maxItems: EVENT_TYPES.length, items: { type: 'string', enum: EVENT_TYPES } }] },
          description: text(200)
        }
      } as const,
      response: pageResponses('The signing secret (shown once)')
    }
  }, async (request, reply) => {
    const events = asList(request.body.events as string | string[] | undefined)
    if (events.length === 0) throw new AppError('validation_failed', 'Tick at least one event type: the endpoint would be sent nothing.')
    const description = blankless(request.body.description)
    const { row, secret } = await registerWebhook(webhookDeps(request), { url: request.body.url.trim(), events, ...(description !== undefined ? { description } : {}) })
    return sendConsolePage(request, reply, 'admin-once', {
      title: 'The webhook was registered',
      lead: `${row.url} is sent ${row.eventTypes.join(', ')}, each signed with this secret (Standard Webhooks: the webhook-signature header).`,
      label: 'Signing secret',
      value: secret,
      note: 'Give the secret to the receiver\'s developers to check signatures with: it is shown only now.',
      next: { href: `/console/admin/webhooks/${row.id}`, text: 'To the webhook\'s page' }
    })
  })

  app.get('/console/admin/webhooks/:id', {
    config: { scope: 'webhooks:admin' },
    schema: { ...summary('A webhook endpoint, its recent deliveries and its failed ones'), params: idOnly, response: pageResponses('The webhook') }
  }, async (request, reply) => {
    const hook = await webhook(request.params.id)
    const [recent, failed] = await Promise.all([
      listDeliveries(app.sql, hook.id, { limit: 25 }),
      listDeliveries(app.sql, hook.id, { limit: 25, state: 'failed' })
    ])
    return sendConsolePage(request, reply, 'admin-webhook', { title: `Webhook ${hook.url}`, hook: hookView(hook), recent: recent.map((d) => deliveryView(d, hook)), failed: failed.map((d) => deliveryView(d, hook)) })
  })

  for (const change of ['enable', 'disable'] as const) {
    app.get(`/console/admin/webhooks/:id/${change}`, {
      config: { scope: 'webhooks:admin' },
      schema: { ...summary(`Confirm: ${change} a webhook endpoint`), params: idOnly, response: pageResponses('The confirmation') }
    }, async (request, reply) => {
      const hook = await webhook(request.params.id)
      return sendConsolePage(request, reply, 'admin-confirm', {
        title: `${change === 'enable' ? 'Enable' : 'Disable'} the webhook`,
        lead: change === 'enable'
          ? `Enable ${hook.url}? Events from now on are delivered to it again (those that happened while it was disabled are not).`
          : `Disable ${hook.url}? Nothing is delivered to it while it is disabled, and deliveries waiting for a retry fail.`,
        action: `/console/admin/webhooks/${hook.id}/${change}`,
        fields: {},
        button: change === 'enable' ? 'Enable the webhook' : 'Disable the webhook',
        danger: change === 'disable',
        cancel: `/console/admin/webhooks/${hook.id}`
      })
    })

    app.post(`/console/admin/webhooks/:id/${change}`, {
      ...posts,
      config: { scope: 'webhooks:admin', ...limited },
      schema: { ...summary(`${change === 'enable' ? 'Enable' : 'Disable'} a webhook endpoint (audited)`), params: idOnly, body: justCsrf, response: redirectResponses('/console/admin/webhooks/:id') }
    }, async (request, reply) => {
      const row = await changeWebhook(webhookDeps(request), request.params.id, change)
      return await reply.redirect(`/console/admin/webhooks/${row.id}`, 303)
    })
  }

  app.get('/console/admin/webhooks/:id/test', {
    config: { scope: 'webhooks:admin' },
    schema: { ...summary('Confirm sending a test event'), params: idOnly, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const hook = await webhook(request.params.id)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: 'Send a test event',
      lead: `Send ${hook.url} a "webhook.test" event, signed like every other? It names no credential and changes nothing; it appears in the webhook's deliveries with the receiver's answer, and is retried like any delivery if the receiver fails.`,
      ...(!hook.enabled ? { warning: 'The webhook is disabled: enable it first.' } : {}),
      action: `/console/admin/webhooks/${hook.id}/test`,
      fields: {},
      button: 'Send the test event',
      danger: false,
      cancel: `/console/admin/webhooks/${hook.id}`
    })
  })

  app.post('/console/admin/webhooks/:id/test', {
    ...posts,
    config: { scope: 'webhooks:admin', ...limited },
    schema: { ...summary('Send a webhook.test event through the delivery job (audited)'), params: idOnly, body: justCsrf, response: redirectResponses('/console/admin/webhooks/:id') }
  }, async (request, reply) => {
    await sendTestEvent({ ...webhookDeps(request), jobs: app.jobs }, request.params.id)
    return await reply.redirect(`/console/admin/webhooks/${request.params.id}`, 303)
  })

  app.get('/console/admin/webhooks/:id/deliveries/:deliveryId/retry', {
    config: { scope: 'webhooks:admin' },
    schema: { ...summary('Confirm retrying a delivery by hand'), params: deliveryOf, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const hook = await webhook(request.params.id)
    const delivery = await findDelivery(app.sql, request.params.deliveryId)
    if (delivery === undefined || delivery.webhookId !== hook.id) throw notFound(`Delivery "${request.params.deliveryId}" of webhook "${hook.id}"`)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: 'Retry the delivery',
      lead: `Send the ${delivery.eventType} event to ${hook.url} again, now (attempts so far: ${delivery.attempts})? The receiver gets the same event id, so it can tell a repeat; the answer is recorded.`,
      action: `/console/admin/webhooks/${hook.id}/deliveries/${delivery.id}/retry`,
      fields: {},
      button: 'Retry now',
      danger: false,
      cancel: `/console/admin/webhooks/${hook.id}`
    })
  })

  app.post('/console/admin/webhooks/:id/deliveries/:deliveryId/retry', {
    ...posts,
    config: { scope: 'webhooks:admin', ...limited },
    schema: { ...summary('Retry a delivery by hand, now (audited); answers with the outcome'), params: deliveryOf, body: justCsrf, response: pageResponses('The outcome') }
  }, async (request, reply) => {
    const { id, deliveryId } = request.params
    const result = await retryDelivery({ sql: app.sql, clock: app.clock, config: app.config, log: request.log, actor: actor(request), requestId: request.id }, id, deliveryId)
    const delivered = result.state === 'delivered'
    return sendConsoleMessage(request, reply, 200, {
      heading: delivered ? 'Delivered' : 'Not delivered',
      text: delivered ? `The receiver accepted the delivery (attempt ${result.attempts}).` : `The receiver did not accept it (attempt ${result.attempts}); the webhook's page shows its answer.`,
      alert: !delivered,
      next: { href: `/console/admin/webhooks/${id}`, text: 'To the webhook\'s page' }
    })
  })

  // The registry of recognised issuers (registry:admin).

  app.get('/console/admin/registry', {
    config: { scope: 'registry:admin' },
    schema: {
      ...summary('Recognised issuers, and a form to add one'),
      querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' } } },
      response: pageResponses('The registry')
    }
  }, async (request, reply) => {
    const limit = 100
    const rows = await listEntries(app.sql, { limit, includeRemoved: false, ...(request.query.after !== undefined ? { afterSeq: request.query.after } : {}) })
    const entries = rows.map((r) => ({ id: r.id, kind: r.kind === 'issuer-id' ? 'Issuer id' : 'Origin', matcher: r.matcher, name: r.name, note: r.note ?? '', createdAt: when(r.createdAt), createdBy: r.createdBy }))
    const last = rows.at(-1)
    return sendConsolePage(request, reply, 'admin-registry', { title: 'Recognised issuers', entries, maxMatcher: MAX_MATCHER_LENGTH, ...(rows.length === limit && last !== undefined ? { next: `/console/admin/registry?after=${last.seq}` } : {}) })
  })

  app.post('/console/admin/registry', {
    ...posts,
    config: { scope: 'registry:admin', ...limited },
    schema: {
      ...summary('Recognise an issuer: one issuer id, or every issuer id under an https origin (audited)'),
      body: { type: 'object', additionalProperties: false, required: ['kind', 'matcher', 'name'], properties: { ...csrf, kind: { type: 'string', enum: ['issuer-id', 'origin'] }, matcher: text(MAX_MATCHER_LENGTH), name: text(200), note: text(1000) } } as const,
      response: redirectResponses('/console/admin/registry')
    }
  }, async (request, reply) => {
    const { kind, matcher, name } = request.body
    const note = blankless(request.body.note)
    await addRecognisedIssuer(registryDeps(request), { name, [kind === 'issuer-id' ? 'issuerId' : 'origin']: matcher.trim(), ...(note !== undefined ? { note } : {}) })
    return await reply.redirect('/console/admin/registry', 303)
  })

  app.get('/console/admin/registry/:id/remove', {
    config: { scope: 'registry:admin' },
    schema: { ...summary('Confirm removing a recognised issuer'), params: idOnly, response: pageResponses('The confirmation') }
  }, async (request, reply) => {
    const entry = await findEntry(app.sql, request.params.id)
    if (entry === undefined) throw notFound(`Recognised issuer "${request.params.id}"`)
    return sendConsolePage(request, reply, 'admin-confirm', {
      title: `Stop recognising ${entry.name}`,
      lead: `Remove "${entry.name}" (${entry.kind === 'issuer-id' ? 'issuer id' : 'every issuer id under'} ${entry.matcher})? Credentials from it are then verified as from an issuer this body does not recognise. The entry stays on record, marked removed.`,
      action: `/console/admin/registry/${entry.id}/remove`,
      fields: {},
      button: 'Remove',
      danger: true,
      cancel: '/console/admin/registry'
    })
  })

  app.post('/console/admin/registry/:id/remove', {
    ...posts,
    config: { scope: 'registry:admin', ...limited },
    schema: { ...summary('Stop recognising an issuer (audited)'), params: idOnly, body: justCsrf, response: redirectResponses('/console/admin/registry') }
  }, async (request, reply) => {
    await removeRecognisedIssuer(registryDeps(request), request.params.id)
    return await reply.redirect('/console/admin/registry', 303)
  })
}
