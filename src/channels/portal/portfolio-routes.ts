import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { recheckStoredCredential } from '../../capabilities/open-badges-api/portfolio.js'
import { deleteStoredCredential, listStoredCredentials, type StoredCredential } from '../../capabilities/open-badges-api/store.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, noBody } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { longDate } from '../../infrastructure/web/dates.js'

const emptyForm = { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string', maxLength: 200 } } } as const
const formRefusals = { 403: htmlPage('The form expired: its CSRF token is missing or stale'), 429: htmlPage('Too many posts from this address (Retry-After)') } as const
const toSignIn = { 303: noBody('Not signed in: to the sign-in form', { Location: { type: 'string', description: '/account' } }) }

/** How the portal words the verifier's verdict when the badge was stored, and the banner's tone. */
function stateOf (badge: StoredCredential): { state: string, tone: string } {
  const checked = longDate(badge.verification.checkedAt) ?? 'when it was added'
  switch (badge.verificationStatus) {
    case 'revoked':
      return { tone: 'revoked', state: `Checked on ${checked}: its issuer has revoked it.` }
    case 'expired':
      return { tone: 'expired', state: `Checked on ${checked}: it has expired.` }
    case 'valid':
      return { tone: 'valid', state: `Verified on ${checked}: the signature is good and the issuer is recognised.` }
    case 'unverified_issuer':
      return { tone: 'pending', state: `Checked on ${checked}: the signature is good, but who the issuer is could not be confirmed.` }
    default:
      return { tone: 'invalid', state: `Checked on ${checked}: ${badge.verificationStatus.replaceAll('_', ' ')}.` }
  }
}

/**
 * Badges from other issuers that the holder keeps here (stored through the
 * Open Badges API's POST /credentials): listed apart from My badges, each
 * clearly marked as not issued by this service, with the verifier's verdict
 * of when it was stored; the holder can remove one.
 */
export async function portfolioRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { config: perMinute(app.config.rateLimits.formsPerMinute), preValidation: app.csrfProtection }

  const portfolioPage = async (reply: FastifyReply, email: string, message?: string, status = 200): Promise<FastifyReply> => {
    const badges = (await listStoredCredentials(app.sql, email)).map((badge) => ({
      id: badge.id,
      achievementName: badge.achievementName ?? 'A badge',
      issuerName: badge.issuerName ?? badge.issuerId,
      issuerId: badge.issuerId,
      validFrom: longDate(badge.validFrom.toISOString()),
      validUntil: badge.validUntil === null ? undefined : longDate(badge.validUntil.toISOString()),
      checkedOn: longDate(badge.verification.checkedAt),
      format: badge.compactJws !== null ? 'VC-JWT' : 'JSON-LD',
      ...stateOf(badge)
    }))
    // Not sendPage: its no-cache would let a shared cache keep the holder's list.
    return await reply.code(status).type('text/html; charset=utf-8').header('X-Robots-Tag', 'noindex').header('Cache-Control', 'no-store')
      .send(renderSitePage('account-portfolio', app.config, { title: 'Badges from other issuers', csrf: reply.generateCsrf(), email, badges, ...(message !== undefined ? { message } : {}) }))
  }

  app.get('/account/portfolio', {
    schema: {
      summary: 'Badges from other issuers the holder keeps here (HTML), marked as not issued by this service',
      tags: [TAG.portal],
      response: { 200: htmlPage('The list (Cache-Control: no-store)'), ...toSignIn }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    return await portfolioPage(reply, email)
  })

  app.post('/account/portfolio/:id/remove', {
    ...posts,
    schema: {
      summary: 'Remove a badge from another issuer from the holder\'s portfolio',
      tags: [TAG.portal],
      params: idParams,
      body: emptyForm,
      response: { 200: htmlPage('The list, saying it was removed'), 404: htmlPage('The list: none of the holder\'s stored badges has this id'), ...toSignIn, ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const removed = await deleteStoredCredential(app.sql, email, request.params.id)
    request.log.info({ storedCredentialId: request.params.id, removed }, 'portfolio badge removal')
    return removed
      ? await portfolioPage(reply, email, 'The badge was removed from your portfolio. Platforms you connected no longer receive it from here.')
      : await portfolioPage(reply, email, 'None of your stored badges has this link; it may have been removed already.', 404)
  })

  app.post('/account/portfolio/:id/check', {
    ...posts,
    schema: {
      summary: 'Verify a stored badge from another issuer again (its issuer may have revoked it) and keep the new verdict',
      tags: [TAG.portal],
      params: idParams,
      body: emptyForm,
      response: { 200: htmlPage('The list, with the badge\'s new verdict'), 404: htmlPage('The list: none of the holder\'s stored badges has this id'), ...toSignIn, ...formRefusals }
    }
  }, async (request, reply) => {
    const email = request.session.email
    if (email === undefined) return await reply.code(303).header('Location', '/account').send()
    const checked = await recheckStoredCredential({ sql: app.sql, verifier: app.verifier, now: app.clock(), publicBaseUrl: app.config.publicBaseUrl }, email, request.params.id)
    if (checked === undefined) return await portfolioPage(reply, email, 'None of your stored badges has this link; it may have been removed.', 404)
    request.log.info({ storedCredentialId: request.params.id, status: checked.status }, 'portfolio badge checked again')
    return await portfolioPage(reply, email, checked.status === 'indeterminate'
      ? 'The badge could not be checked just now (its issuer\'s records are out of reach); its last check stands. Try again later.'
      : 'The badge was checked again; its state below is as of now.')
  })
}
