import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import formBody from '@fastify/formbody'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { staffActor, tokenHash } from '../../capabilities/staff-accounts/accounts.js'
import { authenticationOptions, registerPasskey, registrationOptions, signInWithPasskey, type PasskeyDeps } from '../../capabilities/staff-accounts/passkeys.js'
import { ROLE_SCOPES } from '../../capabilities/staff-accounts/roles.js'
import { endStaffSessionById, staffOfSession, startStaffSession, STAFF_SESSION_HOURS } from '../../capabilities/staff-accounts/sessions.js'
import { findEnrolment, findStaffUser, type StaffUserRow } from '../../capabilities/staff-accounts/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody, problems } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { AppError } from '../../kernel/errors.js'
import { safeNext, sendConsoleMessage, sendConsolePage } from './page.js'
import { dashboardRoutes } from './dashboard.js'
import { credentialsRoutes } from './credentials.js'
import { queuesRoutes } from './queues.js'
import { achievementsRoutes } from './achievements.js'
import { uploadRoutes } from './upload.js'
import { administrationRoutes } from './administration.js'
import { singleSignOnRoutes } from './single-sign-on.js'

export const STAFF_COOKIE = 'tessera_staff'

/** The console's own script and stylesheet, and the WebAuthn browser library (@simplewebauthn/browser's UMD bundle). */
const ASSETS: Record<string, { type: string, body: string }> = {
  'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../../../assets/console/console.js', import.meta.url), 'utf8') },
  'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('../../../assets/console/console.css', import.meta.url), 'utf8') },
  // The package exports no path to its bundle (its "unpkg" file): found from its CommonJS entry, script/index.js.
  'webauthn.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist/bundle/index.umd.min.js'), 'utf8') }
}
/** Pages with a passkey button load these. */
export const PASSKEY_SCRIPTS = ['/console/assets/webauthn.js', '/console/assets/console.js']

/**
 * The pages' Content-Security-Policy: the site's (no inline anything), with
 * scripts and fetches from this origin, for the passkey buttons.
 */
const CONSOLE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data: https:; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const passkeyAnswer = { type: 'object', description: 'The WebAuthn answer as @simplewebauthn/browser gives it', additionalProperties: true, required: ['id', 'rawId', 'response', 'type'], properties: { id: text(1024), rawId: text(1024), type: { const: 'public-key' }, response: { type: 'object' } } } as const
const signedInAnswer = { type: 'object', description: 'Signed in (the session cookie is set)', additionalProperties: false, required: ['next'], properties: { next: { type: 'string', description: 'Where to go now' } } } as const
const options = { type: 'object', description: 'The challenge (used once, for 5 minutes) and the options to give the authenticator', additionalProperties: false, required: ['challengeId', 'options'], properties: { challengeId: { type: 'string' }, options: { type: 'object', additionalProperties: true, description: 'PublicKeyCredential options (JSON), for @simplewebauthn/browser' } } } as const

const jsonOptions = (started: { challengeId: string, options: object }): { challengeId: string, options: Record<string, unknown> } => ({ challengeId: started.challengeId, options: started.options as Record<string, unknown> })

/**
 * The staff console: server-rendered pages over the same domain functions as
 * the staff API, for staff users signed in with a passkey (or the body's
 * single sign-on). A role is a set of the API's scopes; every console route
 * declares the scope it needs (or that it is public), as staff API routes do,
 * and every action is audited with the staff user as actor ("staff:<id>").
 * Sessions live in PostgreSQL behind a signed HttpOnly SameSite=Strict cookie;
 * forms carry CSRF tokens; posts are rate-limited per client IP.
 */
export async function consoleRoutes (fastify: FastifyInstance, _options: { cookieSecret: string }): Promise<void> {
  await fastify.register(formBody, { bodyLimit: 64 * 1024 })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const passkeyDeps = (request: FastifyRequest): PasskeyDeps => ({ sql: app.sql, now: app.clock(), baseUrl: app.config.publicBaseUrl, rpName: `${app.config.issuer.name} staff console`, requestId: request.id })
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('Content-Security-Policy', CONSOLE_CSP)
    const config = request.routeOptions.config
    if (config.consolePublic === true) return
    const user = await signedInUser(request)
    if (user === undefined) {
      if (request.method === 'GET') {
        await reply.redirect(`/console/sign-in?next=${encodeURIComponent(request.url)}`, 303)
        return reply
      }
      throw new AppError('unauthorized', 'Your console session ended. Sign in again.')
    }
    request.staffUser = user
    request.staff = { actor: staffActor(user.id), name: user.name, scopes: ROLE_SCOPES[user.role] }
    // As on the staff API: a route that declares no scope is refused (fail closed).
    const scope = config.scope
    if (scope === undefined) throw new AppError('forbidden', `${request.method} ${request.routeOptions.url ?? request.url} declares no scope.`)
    if (!request.staff.scopes.includes(scope)) throw new AppError('forbidden', `Your role (${user.role}) does not allow this: it needs "${scope}".`)
  })

  async function signedInUser (request: FastifyRequest): Promise<StaffUserRow | undefined> {
    const raw = request.cookies[STAFF_COOKIE]
    if (raw === undefined) return undefined
    const unsigned = request.unsignCookie(raw)
    if (!unsigned.valid || unsigned.value === null) return undefined
    return await staffOfSession(app.sql, unsigned.value, app.clock())
  }

  const startSession = async (request: FastifyRequest, reply: FastifyReply, user: StaffUserRow, method: 'passkey' | 'oidc'): Promise<void> => {
    const id = await startStaffSession({ sql: app.sql, now: app.clock(), requestId: request.id }, user, method)
    void reply.setCookie(STAFF_COOKIE, id, { path: '/console', httpOnly: true, sameSite: 'strict', secure: 'auto', signed: true, maxAge: STAFF_SESSION_HOURS * 3600 })
  }
  app.decorate('startConsoleSession', startSession)

  // Pages answer refusals as pages; the passkey endpoints (fetch) as problem+json, through the app's handler.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const page = request.method === 'GET' || request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true
    if (error.code?.startsWith('FST_CSRF_') === true) {
      if (!page) throw new AppError('forbidden', 'The page expired: reload it and try again.')
      return sendConsoleMessage(request, reply, 403, { heading: 'This form has expired', text: 'Forms work only from the page that showed them. Go back, reload the page and send it again.', alert: true })
    }
    if (page && error instanceof AppError && error.statusCode < 500) {
      return sendConsoleMessage(request, reply, error.statusCode, { heading: error.statusCode === 403 ? 'Not allowed' : 'That did not work', text: error.message, alert: true, next: { href: '/console', text: 'Back to the dashboard' } })
    }
    if (page && error.statusCode === 429) {
      return sendConsoleMessage(request, reply.header('Retry-After', '60'), 429, { heading: 'Too many attempts', text: 'Please wait a minute before trying again.', alert: true })
    }
    throw error
  })

  app.get('/console/assets/:file', {
    config: { consolePublic: true },
    schema: {
      summary: 'The console\'s script, stylesheet and the WebAuthn browser library',
      tags: [TAG.console],
      params: { type: 'object', required: ['file'], properties: { file: { type: 'string', enum: Object.keys(ASSETS) } } },
      response: { 200: { description: 'The file', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } } }
    }
  }, async (request, reply) => {
    const asset = ASSETS[request.params.file]!
    return await reply.type(asset.type).header('Cache-Control', 'public, max-age=3600').send(asset.body)
  })

  app.get('/console/sign-in', {
    config: { consolePublic: true },
    schema: { summary: 'The console\'s sign-in page (passkey; single sign-on when configured)', tags: [TAG.console], querystring: { type: 'object', properties: { next: text(2000) } }, response: { 200: htmlPage('The sign-in page') } }
  }, async (request, reply) => {
    const sso = app.config.staffSingleSignOn
    return sendConsolePage(request, reply, 'sign-in', { title: 'Sign in', next: safeNext(request.query.next), scripts: PASSKEY_SCRIPTS, ...(sso !== undefined ? { singleSignOn: { name: sso.name } } : {}) })
  })

  app.post('/console/passkey/sign-in-options', {
    ...posts,
    config: { consolePublic: true, ...limited },
    schema: { summary: 'A WebAuthn challenge to sign in with a passkey', tags: [TAG.console], body: { type: 'object', additionalProperties: false, properties: {} }, response: { 200: options } }
  }, async (request) => jsonOptions(await authenticationOptions(passkeyDeps(request))))

  app.post('/console/passkey/sign-in', {
    ...posts,
    config: { consolePublic: true, ...limited },
    schema: {
      summary: 'Sign in with a passkey: starts a console session (audited, failures too)',
      tags: [TAG.console],
      body: { type: 'object', additionalProperties: false, required: ['challengeId', 'response'], properties: { challengeId: text(64), response: passkeyAnswer, next: text(2000) } },
      response: { 200: signedInAnswer, ...problems(401) }
    }
  }, async (request, reply) => {
    const user = await signInWithPasskey(passkeyDeps(request), { challengeId: request.body.challengeId, response: request.body.response as unknown as AuthenticationResponseJSON })
    await startSession(request, reply, user, 'passkey')
    return { next: safeNext(request.body.next) }
  })

  app.get('/console/enrol', {
    config: { consolePublic: true },
    schema: { summary: 'An enrolment link: register a passkey (once)', tags: [TAG.console], querystring: { type: 'object', properties: { token: text(100) } }, response: { 200: htmlPage('The enrolment page'), 404: htmlPage('The link is not valid') } }
  }, async (request, reply) => {
    const token = request.query.token ?? ''
    const userId = token === '' ? undefined : await findEnrolment(app.sql, tokenHash(token), app.clock())
    const user = userId === undefined ? undefined : await findStaffUser(app.sql, userId)
    if (user === undefined || user.disabledAt !== null) return sendConsolePage(request, reply, 'enrol', { title: 'Register your passkey', valid: false }, 404)
    return sendConsolePage(request, reply, 'enrol', { title: 'Register your passkey', valid: true, name: user.name, email: user.email, token, scripts: PASSKEY_SCRIPTS })
  })

  app.post('/console/passkey/registration-options', {
    ...posts,
    config: { consolePublic: true, ...limited },
    schema: { summary: 'A WebAuthn challenge to register a passkey with an enrolment link', tags: [TAG.console], body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: text(100) } }, response: { 200: options, ...problems(403) } }
  }, async (request) => jsonOptions(await registrationOptions(passkeyDeps(request), request.body.token)))

  app.post('/console/passkey/register', {
    ...posts,
    config: { consolePublic: true, ...limited },
    schema: {
      summary: 'Register the passkey (uses the enrolment link up) and sign in',
      tags: [TAG.console],
      body: { type: 'object', additionalProperties: false, required: ['token', 'challengeId', 'response'], properties: { token: text(100), challengeId: text(64), response: passkeyAnswer } },
      response: { 200: signedInAnswer, ...problems(401, 403) }
    }
  }, async (request, reply) => {
    const user = await registerPasskey(passkeyDeps(request), { enrolmentToken: request.body.token, challengeId: request.body.challengeId, response: request.body.response as unknown as RegistrationResponseJSON })
    await startSession(request, reply, user, 'passkey')
    return { next: '/console' }
  })

  app.post('/console/sign-out', {
    ...posts,
    config: { consolePublic: true },
    schema: { summary: 'Sign out of the console (ends the session everywhere)', tags: [TAG.console], body: { type: 'object', properties: { _csrf: text(200) } }, response: { 303: noBody('To the sign-in page', { Location: { type: 'string', description: '/console/sign-in' } }) } }
  }, async (request, reply) => {
    const raw = request.cookies[STAFF_COOKIE]
    const unsigned = raw === undefined ? undefined : request.unsignCookie(raw)
    if (unsigned?.valid === true && unsigned.value !== null) await endStaffSessionById(app.sql, unsigned.value, app.clock())
    void reply.clearCookie(STAFF_COOKIE, { path: '/console' })
    return await reply.redirect('/console/sign-in', 303)
  })

  await app.register(dashboardRoutes)
  await app.register(credentialsRoutes)
  await app.register(queuesRoutes)
  await app.register(achievementsRoutes)
  await app.register(uploadRoutes)
  await app.register(administrationRoutes)
  await app.register(singleSignOnRoutes)
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts a console session for a staff user (sets the cookie); the single sign-on callback uses it too. */
    startConsoleSession: (request: FastifyRequest, reply: FastifyReply, user: StaffUserRow, method: 'passkey' | 'oidc') => Promise<void>
  }
}
