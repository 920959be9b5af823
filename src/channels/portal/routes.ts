import formBody from '@fastify/formbody'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { recordAuditEvent } from '../../capabilities/audit/store.js'
import { findCredential, listCredentialsOfHolder, setHiddenByHolder } from '../../capabilities/credentials/store.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { loadHolderView, type HolderDeps } from '../../capabilities/presentation/holder-view.js'
import { renderSitePage, sendPage } from '../../capabilities/presentation/pages.js'
import { shareLinks } from '../../capabilities/presentation/share-links.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { submitBadgeOrder, submitCorrectionRequest } from '../../capabilities/holders/orders.js'
import { EVIDENCE_URL_MAX, evidenceUrlProblem } from '../../capabilities/holders/order-evidence.js'
import { redeemSignInLink, sendSignInLink, SIGN_IN_LINK_MINUTES } from '../../capabilities/holders/sign-in.js'
import { installSessions } from '../../capabilities/holders/sessions.js'
import { listCorrectionRequests } from '../../capabilities/holders/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody, sendNoBody } from '../../infrastructure/http/common-schemas.js'
import { continuingEducationRoutes, continuingEducationSummary } from './continuing-education-routes.js'
import { AFTER_SIGN_IN_COOKIE, AFTER_SIGN_IN_PATH, connectionRoutes } from './connection-routes.js'
import { portfolioRoutes } from './portfolio-routes.js'
import { sendToHostRoutes } from './send-routes.js'
import { addToWalletRoutes } from './wallet-routes.js'

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/
const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const form = <const P extends Record<string, unknown>>(properties: P) => ({ type: 'object', additionalProperties: false, properties: { _csrf: text(200), ...properties } } as const)

const signInRequestBody = form({ email: text(320) })
const signInBody = form({ token: text(100) })
const emptyForm = form({})
const privacyBody = form({ hidden: { type: 'string', enum: ['true', 'false'] } })
const correctionBody = form({ field: { type: 'string', enum: ['name', 'email'] }, value: text(320), note: text(1000) })
const orderBody = form({ name: text(200), email: text(320), certificateNumber: text(64), certifiedOn: text(10), note: text(1000), evidence: text(EVIDENCE_URL_MAX), consent: text(10), website: text(500) })

/** Every form post can meet these, answered as pages (the error handler below). */
const formRefusals = {
  403: htmlPage('The form expired: its CSRF token is missing or stale'),
  429: htmlPage('Too many posts from this address (Retry-After)')
} as const
const toSignIn = (description: string): { 303: ReturnType<typeof noBody> } => ({ 303: noBody(description, { Location: { type: 'string', description: '/account' } }) })
const notYours = { 404: htmlPage('None of the signed-in holder\'s badges has this id') } as const

/** The one answer to "email me a sign-in link", whatever the address: it must not tell who holds badges. */
const LINK_SENT = `If this address holds badges, a sign-in link is on its way to it. The link works once, for ${SIGN_IN_LINK_MINUTES} minutes. Nothing arrived after a few minutes? Check your spam folder, or use the address your badges were sent to.`

/**
 * The holders' own place: sign in by an emailed link (no passwords), see and
 * share every badge issued to the address, hide a badge's page, and ask staff
 * for a correction; and the public Digital Badge Order Form. HTML forms only
 * (no script); every form carries a CSRF token (@fastify/csrf-protection), and
 * every post is rate-limited per client IP.
 */
export async function portalRoutes (fastify: FastifyInstance, options: { cookieSecret: string }): Promise<void> {
  await fastify.register(formBody, { bodyLimit: 16 * 1024 })
  await installSessions(fastify, options.cookieSecret)
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const holderDeps = (): HolderDeps => ({ sql: app.sql, urls: app.urls, config: app.config, verifier: app.verifier, now: app.clock() })
  const page = (reply: FastifyReply, template: string, data: { title: string } & Record<string, unknown>, status = 200): FastifyReply =>
    sendPage(reply.header('X-Robots-Tag', 'noindex'), renderSitePage(template, app.config, data), status)
  const message = (reply: FastifyReply, status: number, data: { heading: string, text: string, alert?: boolean, next?: { href: string, text: string }, form?: unknown, csrf?: string }): FastifyReply =>
    page(reply, 'account-message', { title: data.heading, ...data }, status)
  const posts = { config: perMinute(app.config.rateLimits.formsPerMinute), preValidation: app.csrfProtection, attachValidation: true }

  // A form whose CSRF token is missing or stale, or too many posts: a page, not a JSON problem.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code?.startsWith('FST_CSRF_') === true) {
      return message(reply, 403, { heading: 'This form has expired', text: 'For your security, forms work only from the page that showed them. Go back, reload the page and send it again.', alert: true, next: { href: request.url.startsWith('/order') ? '/order' : '/account', text: 'Start again' } })
    }
    if (error.statusCode === 429) {
      return message(reply.header('Retry-After', '60'), 429, { heading: 'Too many attempts', text: 'Please wait a minute before trying again.', alert: true })
    }
    throw error
  })
  await app.register(continuingEducationRoutes)
  await app.register(connectionRoutes)
  await app.register(portfolioRoutes)
  await app.register(sendToHostRoutes)
  await app.register(addToWalletRoutes)

  const signedIn = (request: FastifyRequest): string | undefined => request.session.email

  app.get('/account', {
    schema: { summary: 'The holders\' portal: sign-in form, or My badges when signed in (HTML)', tags: [TAG.portal], response: { 200: htmlPage('The sign-in form, or My badges (Cache-Control: no-store)') } }
  }, async (request, reply) => {
    const email = signedIn(request)
    if (email === undefined) return page(reply, 'account-sign-in', { title: 'Sign in to my badges', csrf: reply.generateCsrf() })
    return await myBadges(reply, email)
  })

  app.post('/account', {
    ...posts,
    schema: {
      summary: 'Ask for a sign-in link by email (the same answer for every address)',
      tags: [TAG.portal],
      body: signInRequestBody,
      response: { 200: htmlPage('Check your email (whether or not the address holds badges)'), 400: htmlPage('The form again: not an email address'), ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.body.email?.trim() ?? ''
    if (request.validationError !== undefined || !EMAIL.test(email)) {
      return page(reply, 'account-sign-in', { title: 'Sign in to my badges', csrf: reply.generateCsrf(), email, errors: ['Enter an email address, like name@example.org.'] }, 400)
    }
    // After the answer, and the same answer either way (see LINK_SENT).
    app.background.run(async () => {
      const outcome = await sendSignInLink({ sql: app.sql, mailer: app.mailer, urls: app.urls, config: app.config, clock: app.clock }, email)
      request.log.info({ outcome }, 'sign-in link requested')
    })
    return message(reply, 200, { heading: 'Check your email', text: LINK_SENT })
  })

  // Mail scanners open links: GET only shows a button; the token is used by the POST.
  app.get('/account/sign-in', {
    schema: {
      summary: 'The emailed sign-in link: a page with a button (mail scanners must not use the token)',
      tags: [TAG.portal],
      querystring: { type: 'object', properties: { token: text(100) } },
      response: { 200: htmlPage('A button that posts the token') }
    }
  }, async (request, reply) => {
    return message(reply, 200, { heading: 'Sign in to my badges', text: 'Press the button to finish signing in.', csrf: reply.generateCsrf(), form: { action: '/account/sign-in', button: 'Sign in', fields: { token: request.query.token ?? '' } } })
  })

  app.post('/account/sign-in', {
    ...posts,
    schema: {
      summary: 'Use a sign-in token: starts a session',
      tags: [TAG.portal],
      body: signInBody,
      response: { ...toSignIn('Signed in: on to My badges (a new session cookie)'), 400: htmlPage('The link does not work (used, expired or unknown)'), ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.validationError !== undefined ? undefined : await redeemSignInLink(app.sql, request.body.token ?? '', app.clock())
    if (email === undefined) {
      return message(reply, 400, { heading: 'This sign-in link does not work', text: `A sign-in link works once, for ${SIGN_IN_LINK_MINUTES} minutes after it is sent. Ask for a new one.`, alert: true, next: { href: '/account', text: 'Email me a new link' } })
    }
    // A new session id at sign-in (no fixation), holding only the address.
    await request.session.regenerate()
    request.session.email = email
    request.session.signedInAt = app.clock().toISOString()
    request.log.info('holder signed in')
    // A consent page that asked for this sign-in (the Open Badges API's authorization) is where the holder goes back to.
    const after = request.cookies[AFTER_SIGN_IN_COOKIE] === undefined ? undefined : request.unsignCookie(request.cookies[AFTER_SIGN_IN_COOKIE])
    const next = after?.valid === true && after.value !== null && AFTER_SIGN_IN_PATH.test(after.value) ? after.value : '/account'
    if (after !== undefined) reply.clearCookie(AFTER_SIGN_IN_COOKIE, { path: '/account' })
    return await sendNoBody(reply.header('Location', next), 303)
  })

  app.post('/account/sign-out', {
    ...posts,
    schema: { summary: 'End the session', tags: [TAG.portal], body: emptyForm, response: { 200: htmlPage('Signed out'), ...formRefusals } }
  }, async (request, reply) => {
    if (signedIn(request) !== undefined) await request.session.destroy()
    return message(reply, 200, { heading: 'Signed out', text: 'You are signed out of your badges.', next: { href: '/account', text: 'Sign in again' } })
  })

  /** The signed-in holder's credential, or a reply already sent (sign-in page, or not found). */
  const ownCredential = async (request: FastifyRequest, reply: FastifyReply, id: string): Promise<{ email: string, credential: NonNullable<Awaited<ReturnType<typeof findCredential>>> } | FastifyReply> => {
    const email = signedIn(request)
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const credential = await findCredential(app.sql, id)
    if (credential?.recipientEmail !== email) return message(reply, 404, { heading: 'Badge not found', text: 'None of your badges has this link.', next: { href: '/account', text: 'My badges' } })
    return { email, credential }
  }

  app.post('/account/badges/:id/privacy', {
    ...posts,
    schema: {
      summary: 'Hide or show a badge\'s public page (the holder\'s own badge)',
      tags: [TAG.portal],
      params: idParams,
      body: privacyBody,
      response: { 200: htmlPage('My badges, saying what changed'), ...toSignIn('Not signed in: to the sign-in form'), ...notYours, ...formRefusals }
    }
  }, async (request, reply) => {
    const own = await ownCredential(request, reply, request.params.id)
    if (!('credential' in own)) return own
    const hidden = request.body.hidden === 'true'
    await app.sql.begin(async (tx) => {
      await setHiddenByHolder(tx, own.credential.id, own.email, hidden, app.clock())
      await recordAuditEvent(tx, { actor: 'holder', action: hidden ? 'credential.page_hidden' : 'credential.page_shown', subjectType: 'credential', subjectId: own.credential.id, ...(request.id !== undefined ? { requestId: request.id } : {}) })
    })
    return await myBadges(reply, own.email, hidden ? 'The badge page is now private: it says only that the credential is private. The signed credential still verifies for anyone you give it to.' : 'The badge page is public again.')
  })

  const correctionPage = (reply: FastifyReply, credential: { id: string, recipientName: string, recipientEmail: string }, achievementName: string, values: Record<string, string | undefined>, errors: string[] = [], status = 200): FastifyReply =>
    page(reply, 'correction', { title: 'Request a correction', csrf: reply.generateCsrf(), id: credential.id, achievementName, holderName: credential.recipientName, holderEmail: credential.recipientEmail, values, errors }, status)

  app.get('/account/badges/:id/correction', {
    schema: {
      summary: 'The correction request form',
      tags: [TAG.portal],
      params: idParams,
      response: { 200: htmlPage('The form'), ...toSignIn('Not signed in: to the sign-in form'), ...notYours }
    }
  }, async (request, reply) => {
    const own = await ownCredential(request, reply, request.params.id)
    if (!('credential' in own)) return own
    const view = await loadHolderView(holderDeps(), own.credential.id)
    return correctionPage(reply, own.credential, view?.fields.achievement.name ?? 'this', {})
  })

  app.post('/account/badges/:id/correction', {
    ...posts,
    schema: {
      summary: 'Send a correction request to the staff queue',
      tags: [TAG.portal],
      params: idParams,
      body: correctionBody,
      response: {
        200: htmlPage('My badges, saying the request was sent (or that one is already waiting)'),
        400: htmlPage('The form again, saying what to fix'),
        ...toSignIn('Not signed in: to the sign-in form'),
        ...notYours,
        ...formRefusals
      }
    }
  }, async (request, reply) => {
    const own = await ownCredential(request, reply, request.params.id)
    if (!('credential' in own)) return own
    const body = request.body
    const field = body.field ?? 'name'
    const value = body.value?.trim() ?? ''
    const errors = [
      ...(request.validationError !== undefined ? ['Some of the form could not be read; check each field.'] : []),
      ...(value === '' ? ['Enter the correct value.'] : []),
      ...(field === 'email' && value !== '' && !EMAIL.test(value) ? ['Enter the correct email address, like name@example.org.'] : []),
      ...(value !== '' && value.toLowerCase() === (field === 'name' ? own.credential.recipientName : own.credential.recipientEmail).toLowerCase() ? ['That is what the badge says now.'] : [])
    ]
    if (errors.length > 0) {
      const view = await loadHolderView(holderDeps(), own.credential.id)
      return correctionPage(reply, own.credential, view?.fields.achievement.name ?? 'this', { field, value, note: body.note }, errors, 400)
    }
    const submitted = await submitCorrectionRequest(app.sql, app.clock(), { credential: own.credential, field, value, ...(body.note !== undefined ? { note: body.note } : {}) })
    request.log.info({ credentialId: own.credential.id, ...submitted }, 'correction requested')
    return await myBadges(reply, own.email, 'id' in submitted
      ? 'Your correction request was sent to staff. You will see its state here, and we will email you when the badge is reissued.'
      : 'You already have a correction request waiting for this badge; staff will decide it first.')
  })

  /** My badges: the current version of every credential issued to the address, newest first. */
  async function myBadges (reply: FastifyReply, email: string, notice?: string): Promise<FastifyReply> {
    const deps = holderDeps()
    const credentials = await listCredentialsOfHolder(app.sql, email)
    const requests = await listCorrectionRequests(app.sql, credentials.map((c) => c.id))
    const badges = []
    for (const credential of credentials) {
      const view = await loadHolderView(deps, credential.id)
      if (view === undefined) continue
      const url = app.urls.credential(credential.id)
      const path = new URL(url).pathname
      const { fields } = view
      badges.push({
        id: credential.id,
        banner: view.banner,
        achievementName: fields.achievement.name,
        holderName: fields.holderName ?? credential.recipientName,
        awardDate: longDate(fields.issued),
        validUntil: longDate(fields.validUntil),
        continuingEducation: await continuingEducationSummary(app.sql, credential.id, deps.now),
        hidden: credential.hiddenByHolderAt !== null,
        revoked: credential.revokedAt !== null,
        pagePath: path,
        imageUrl: `${path}/badge.png`,
        imageAlt: `${fields.achievement.name} badge`,
        share: credential.hiddenByHolderAt !== null || credential.revokedAt !== null
          ? undefined
          : shareLinks({
            credentialUrl: url,
            credentialId: credential.id,
            achievementName: fields.achievement.name,
            issuerName: fields.issuerName,
            ...(app.config.branding.linkedInOrganizationId !== undefined ? { linkedInOrganizationId: app.config.branding.linkedInOrganizationId } : {}),
            ...(fields.issued !== undefined ? { issued: fields.issued } : {}),
            ...(fields.validUntil !== undefined ? { expires: fields.validUntil } : {})
          }),
        downloads: [
          { href: `${path}/certificate.pdf`, text: 'Certificate (PDF)' },
          { href: `${path}/wallet-card.pdf`, text: 'Wallet card (PDF)' },
          { href: `${path}/badge.png`, text: 'Badge image (PNG)' },
          { href: `${path}/credential.jsonld`, text: 'Credential (JSON-LD, for digital wallets)' },
          { href: `${path}/credential.jwt`, text: 'Credential (VC-JWT)' }
        ],
        requests: requests.filter((r) => r.credentialId === credential.id).map((r) => ({
          what: `${r.correctionField === 'email' ? 'Email' : 'Name'} to "${r.correctionValue ?? ''}"`,
          sent: longDate(r.createdAt.toISOString()),
          state: r.state === 'pending' ? 'waiting for staff' : r.state,
          reason: r.rejectionReason
        }))
      })
    }
    return page(reply.header('Cache-Control', 'no-store'), 'account', { title: 'My badges', csrf: reply.generateCsrf(), email, badges, ...(notice !== undefined ? { message: notice } : {}) })
  }

  const orderPage = (reply: FastifyReply, values: Record<string, string | undefined>, errors: string[] = [], status = 200): FastifyReply =>
    page(reply, 'order', { title: 'Digital Badge Order Form', csrf: reply.generateCsrf(), values, errors }, status)

  app.get('/order', {
    schema: { summary: 'The Digital Badge Order Form (HTML)', tags: [TAG.portal], response: { 200: htmlPage('The form') } }
  }, async (_request, reply) => orderPage(reply, {}))

  app.post('/order', {
    ...posts,
    schema: {
      summary: 'Send a badge order to the staff queue',
      tags: [TAG.portal],
      body: orderBody,
      response: { 200: htmlPage('Thank you: the order was received'), 400: htmlPage('The form again, saying what to fix'), ...formRefusals }
    }
  }, async (request, reply) => {
    const body = request.body
    const thanks = (): FastifyReply => message(reply, 200, { heading: 'Thank you: your order was received', text: 'Staff will check your details against our records. When your order is approved, we email you the link to your digital badge; if we cannot approve it, we email you why.' })
    // The honeypot: people never see the field; a bot that fills it gets the same thanks and nothing is stored.
    if (body.website !== undefined && body.website.trim() !== '') {
      request.log.info('order form honeypot filled: nothing stored')
      return thanks()
    }
    const values = { name: body.name?.trim(), email: body.email?.trim(), certificateNumber: body.certificateNumber?.trim(), certifiedOn: body.certifiedOn?.trim(), note: body.note, evidence: body.evidence?.trim(), consent: body.consent }
    const evidenceProblem = values.evidence === undefined || values.evidence === '' ? undefined : evidenceUrlProblem(values.evidence, app.config.outbound.allowLoopback)
    const today = app.clock().toISOString().slice(0, 10)
    const errors = [
      ...(request.validationError !== undefined ? ['Some of the form could not be read; check each field (names up to 200 characters, notes up to 1,000, links up to 2,000).'] : []),
      ...(values.name === undefined || values.name === '' ? ['Enter your full name.'] : []),
      ...(values.email === undefined || !EMAIL.test(values.email) ? ['Enter your email address, like name@example.org.'] : []),
      ...(values.certificateNumber === undefined || values.certificateNumber === '' ? ['Enter your certificate number or member id.'] : []),
      ...(values.certifiedOn === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(values.certifiedOn) || Number.isNaN(Date.parse(values.certifiedOn)) || values.certifiedOn > today || values.certifiedOn < '1950-01-01'
        ? ['Enter the date of your current certification (not in the future).']
        : []),
      ...(evidenceProblem !== undefined ? [evidenceProblem] : []),
      ...(values.consent !== 'yes' ? ['Tick the box to agree that we may check your details and issue the badge.'] : [])
    ]
    if (errors.length > 0) return orderPage(reply, values, errors, 400)
    const id = await submitBadgeOrder(app.sql, app.clock(), {
      name: values.name as string,
      email: values.email as string,
      certificateNumber: values.certificateNumber as string,
      certifiedOn: values.certifiedOn as string,
      ...(values.note !== undefined ? { note: values.note } : {}),
      ...(values.evidence !== undefined && values.evidence !== '' ? { evidenceUrl: values.evidence } : {})
    })
    request.log.info({ orderId: id }, 'badge order received')
    return thanks()
  })
}
