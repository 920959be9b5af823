import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OPEN_BADGES_API_PATH, serviceDescription } from '../../capabilities/open-badges-api/discovery.js'
import { ImsxError, imsxRef, imsxStatus, minorForStatus } from '../../capabilities/open-badges-api/imsx.js'
import { upsertPostedCredential, type PostedCredential } from '../../capabilities/open-badges-api/portfolio.js'
import { readProfile, updateProfile } from '../../capabilities/open-badges-api/profile.js'
import { credentialsQuery, PAGE_LIMIT_DEFAULT, profileBody, profileResponse, readSince } from '../../capabilities/open-badges-api/schemas.js'
import { OB_SCOPE, type ObAccess, type ObScope } from '../../capabilities/open-badges-api/scopes.js'
import { portfolioPage } from '../../capabilities/open-badges-api/store.js'
import { LIMITS } from '../../capabilities/verification/limits.js'
import { isCompactJws } from '../../capabilities/verification/parse-input.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { parseUntrustedJson } from '../../infrastructure/http/json-body.js'
import { noBody, sendNoBody } from '../../infrastructure/http/common-schemas.js'
import { validationProblem } from '../../infrastructure/http/validation-messages.js'
import { isDatabaseUnavailable } from '../../infrastructure/db/errors.js'
import { AppError } from '../../kernel/errors.js'

const imsx = (description: string) => ({ description, content: { 'application/json': { schema: imsxRef } } })
const refusals = {
  401: imsx('No access token, or one that is unknown, expired or revoked (WWW-Authenticate: Bearer)'),
  403: imsx('The access token does not carry this endpoint\'s scope')
}
const typeless = (description: string) => ({ description, content: { 'application/json': { schema: { description } } } })
const credentialBodies = (description: string) => ({
  description,
  content: {
    'application/json': { schema: { description: 'The AchievementCredential as posted (JSON-LD), byte for byte' } },
    'text/plain': { schema: { type: 'string', description: 'The compact JWS as posted' } }
  }
})

/** The request body's JSON text, byte for byte: a stored badge is kept and answered exactly as posted. */
const jsonTexts = new WeakMap<FastifyRequest, string>()
/** Who each authorised request acts for (set by the route's onRequest hook). */
const accessOf = new WeakMap<FastifyRequest, ObAccess>()

/** Paths of the API and the methods each answers, for 405 with Allow. */
const METHODS: Record<string, string> = { '/discovery': 'GET, HEAD', '/credentials': 'GET, HEAD, POST', '/profile': 'GET, HEAD, PUT' }

/**
 * The Open Badges 3.0 API's resources under /ims/ob/v3p0 (discovery,
 * credentials, profile) for the platforms a holder connected through OAuth
 * 2.0 (oauth-routes.ts). Every answer but a success is an Imsx_StatusInfo,
 * from this plugin's own error and not-found handlers.
 */
export async function openBadgesResourceRoutes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(resources, { prefix: OPEN_BADGES_API_PATH })
}

async function resources (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  installImsxErrors(app)
  // JSON as parsed everywhere (secure-json-parse, bounded depth), keeping the text; a compact JWS as text/plain (OB 3.0 §6.2.3).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    try {
      const value = parseUntrustedJson(text)
      jsonTexts.set(request, text)
      done(null, value)
    } catch {
      done(new ImsxError(400, 'The request body is not valid JSON (or nests too deep).'), undefined)
    }
  })
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => { done(null, (body as string).trim()) })

  const description = JSON.stringify(serviceDescription({
    publicBaseUrl: app.config.publicBaseUrl,
    // This service has no pages of its own terms or privacy policy: the issuer's site states them.
    termsOfService: app.config.issuer.url ?? app.config.publicBaseUrl,
    privacyPolicy: app.config.issuer.url ?? app.config.publicBaseUrl
  }))

  /**
   * The holder and client a request's bearer token stands for, when it carries `scope`; else the 401 or 403 refusal.
   * Run on request, before the body is read or validated: a caller without access learns nothing else.
   */
  const authorise = (scope: ObScope) => async (request: FastifyRequest): Promise<void> => { accessOf.set(request, await access(request, scope)) }
  const holderOf = (request: FastifyRequest): ObAccess => {
    const found = accessOf.get(request)
    if (found === undefined) throw new ImsxError(401, 'Send an OAuth 2.0 access token: Authorization: Bearer <token>.')
    return found
  }
  const access = async (request: FastifyRequest, scope: ObScope): Promise<ObAccess> => {
    const header = request.headers.authorization ?? ''
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())?.[1]
    if (token === undefined) throw new ImsxError(401, 'Send an OAuth 2.0 access token: Authorization: Bearer <token>.', { headers: { 'WWW-Authenticate': 'Bearer realm="tessera"' } })
    const found = await app.authorizationServer.findAccess(token)
    if (found === undefined) throw new ImsxError(401, 'The access token is unknown, expired or revoked.', { headers: { 'WWW-Authenticate': 'Bearer realm="tessera", error="invalid_token"' } })
    if (!found.scopes.has(scope)) {
      throw new ImsxError(403, `The access token does not carry the scope ${scope}.`, { headers: { 'WWW-Authenticate': `Bearer realm="tessera", error="insufficient_scope", scope="${scope}"` } })
    }
    return found
  }

  app.get('/discovery', {
    schema: {
      summary: 'The Service Description Document (OpenAPI 3.0, profiled with this service\'s OAuth endpoints)',
      tags: [TAG.openBadges],
      response: { 200: typeless('The 1EdTech OB 3.0 OpenAPI document with this service\'s servers, terms, privacy policy and OAuth2ACG security scheme') }
    }
  }, async (_request, reply) => await reply.type('application/json; charset=utf-8').send(description))

  app.get('/credentials', {
    onRequest: authorise(OB_SCOPE.credentialReadonly),
    config: { obScope: OB_SCOPE.credentialReadonly },
    schema: {
      summary: 'The holder\'s credentials: this service\'s (JSON-LD and VC-JWT) and the badges they stored',
      description: `Requires an access token with ${OB_SCOPE.credentialReadonly}. Paged: X-Total-Count, and Link with first, last, next and prev.`,
      tags: [TAG.openBadges],
      querystring: credentialsQuery,
      response: {
        200: {
          ...typeless('GetOpenBadgeCredentialsResponse: { credential: [...], compactJwsString: [...] }, the signed documents byte for byte'),
          headers: {
            'X-Total-Count': { type: 'string', description: 'How many credentials the query matches' },
            Link: { type: 'string', description: 'RFC 8288 links to the first, last, next and prev pages' }
          }
        },
        ...refusals
      }
    }
  }, async (request, reply) => {
    const holder = holderOf(request)
    const limit = request.query.limit ?? PAGE_LIMIT_DEFAULT
    const offset = request.query.offset ?? 0
    const since = request.query.since === undefined ? undefined : readSince(request.query.since)
    if (request.query.since !== undefined && since === undefined) throw new ImsxError(400, `"since" must be a date-time that exists, like 2026-12-01T00:00:00Z; ${request.query.since} is not one.`, { codeMinor: 'invalid_query_parameter' })
    const page = await portfolioPage(app.sql, { holderEmail: holder.holderEmail, limit, offset, ...(since !== undefined ? { since } : {}) })
    const documents: string[] = []
    const jwts: string[] = []
    for (const item of page.items) {
      if (item.document !== null) documents.push(item.document)
      if (item.compactJws !== null) jwts.push(JSON.stringify(item.compactJws))
    }
    request.log.info({ clientId: holder.clientId, total: page.total, returned: page.items.length }, 'open badges credentials read')
    const link = pageLinks(`${app.config.publicBaseUrl}${OPEN_BADGES_API_PATH}/credentials`, { limit, offset, total: page.total, ...(request.query.since !== undefined ? { since: request.query.since } : {}) })
    // Written from the stored texts, so each signed document goes out exactly as it was signed.
    return await reply.header('X-Total-Count', String(page.total)).header('Link', link).header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8').send(`{"credential":[${documents.join(',')}],"compactJwsString":[${jwts.join(',')}]}`)
  })

  app.post('/credentials', {
    onRequest: authorise(OB_SCOPE.credentialUpsert),
    // Each post is a verification (canonicalisation, maybe other issuers' keys fetched): limited like the verify API.
    config: { obScope: OB_SCOPE.credentialUpsert, ...perMinute(app.config.rateLimits.verifyPerMinute) },
    bodyLimit: LIMITS.bodyBytes,
    schema: {
      summary: 'Keep a badge from another issuer in the holder\'s portfolio (upsert): JSON-LD or a compact JWS',
      description: `Requires an access token with ${OB_SCOPE.credentialUpsert}. The service's verifier judges the credential first; it must be addressed to the holder's email address. Equality is (issuer id, credential id): a newer validFrom replaces (200), the same or older is 304.`,
      tags: [TAG.openBadges],
      body: { anyOf: [{ type: 'object', description: 'An AchievementCredential (application/json)' }, { type: 'string', maxLength: LIMITS.bodyBytes, description: 'A compact JWS (text/plain)' }] },
      response: {
        200: credentialBodies('Replaced: a copy with an older validFrom was stored; the credential as posted'),
        201: credentialBodies('Stored; the credential as posted'),
        304: noBody('Already stored with the same or a newer validFrom (or one of this service\'s own credentials, already listed)'),
        ...refusals,
        400: imsx('Not a credential, not verified (forged, altered, revoked, expired...: the verifier\'s words), or not addressed to the holder'),
        503: imsx('The credential could not be verified just now (Retry-After); nothing was stored')
      }
    }
  }, async (request, reply) => {
    const holder = holderOf(request)
    const body = request.body
    let posted: PostedCredential
    if (typeof body === 'string') {
      if (!isCompactJws(body)) throw new ImsxError(400, 'A text/plain body must be a compact JWS (header.payload.signature).')
      posted = { kind: 'jws', text: body }
    } else {
      posted = { kind: 'json', text: jsonTexts.get(request) ?? JSON.stringify(body), value: body }
    }
    const outcome = await upsertPostedCredential({ sql: app.sql, verifier: app.verifier, now: app.clock(), publicBaseUrl: app.config.publicBaseUrl }, holder.holderEmail, posted)
    request.log.info({ clientId: holder.clientId, outcome }, 'open badges credential upserted')
    if (outcome === 'unchanged') return await sendNoBody(reply, 304)
    return await reply.code(outcome === 'created' ? 201 : 200).type(posted.kind === 'jws' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8').send(posted.text)
  })

  app.get('/profile', {
    onRequest: authorise(OB_SCOPE.profileReadonly),
    config: { obScope: OB_SCOPE.profileReadonly },
    schema: {
      summary: 'The holder\'s Open Badges Profile (name and email as identifiers)',
      description: `Requires an access token with ${OB_SCOPE.profileReadonly}.`,
      tags: [TAG.openBadges],
      response: { 200: { description: 'The Profile', content: { 'application/json': { schema: profileResponse } } }, ...refusals }
    }
  }, async (request, reply) => {
    const holder = holderOf(request)
    return await reply.header('Cache-Control', 'no-store').send(await readProfile(app.sql, holder.holderEmail))
  })

  app.put('/profile', {
    onRequest: authorise(OB_SCOPE.profileUpdate),
    config: { obScope: OB_SCOPE.profileUpdate },
    schema: {
      summary: 'Update the holder\'s profile: description, url and phone are kept; a name or email change goes to staff as a correction request (202)',
      description: `Requires an access token with ${OB_SCOPE.profileUpdate}.`,
      tags: [TAG.openBadges],
      body: profileBody,
      response: {
        200: { description: 'Updated: the Profile', content: { 'application/json': { schema: profileResponse } } },
        202: imsx('A name or email change was sent to staff as correction requests (imsx_codeMajor "processing")'),
        304: noBody('Nothing changed'),
        ...refusals
      }
    }
  }, async (request, reply) => {
    const holder = holderOf(request)
    const { id, name, email, description, url, phone } = request.body
    const outcome = await updateProfile({ sql: app.sql, now: app.clock() }, holder.holderEmail, {
      ...(id !== undefined ? { id } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(url !== undefined ? { url } : {}),
      ...(phone !== undefined ? { phone } : {})
    }, holder.clientId)
    request.log.info({ clientId: holder.clientId, outcome: outcome.kind }, 'open badges profile update')
    if (outcome.kind === 'unchanged') return await sendNoBody(reply, 304)
    if (outcome.kind === 'accepted') return await reply.code(202).send(imsxStatus('processing', 'fullsuccess', outcome.message))
    return await reply.code(200).send(outcome.profile)
  })
}

/** RFC 8288 Link header of a page (OB 3.0 §6.2.2 paging): first and last always, next and prev when there are such pages. */
export function pageLinks (url: string, page: { limit: number, offset: number, total: number, since?: string }): string {
  const at = (offset: number): string => {
    const query = new URLSearchParams({ limit: String(page.limit), offset: String(offset), ...(page.since !== undefined ? { since: page.since } : {}) })
    return `${url}?${query.toString()}`
  }
  const last = page.total === 0 ? 0 : Math.floor((page.total - 1) / page.limit) * page.limit
  const links = [`<${at(0)}>; rel="first"`, `<${at(last)}>; rel="last"`]
  if (page.offset + page.limit < page.total) links.push(`<${at(page.offset + page.limit)}>; rel="next"`)
  if (page.offset > 0) links.push(`<${at(Math.max(0, Math.min(page.offset - page.limit, last)))}>; rel="prev"`)
  return links.join(', ')
}

/**
 * Errors of the API as Imsx_StatusInfo, whoever raises them: the routes'
 * ImsxError, Fastify's validation and body errors, the database, the rest.
 */
function installImsxErrors (app: FastifyInstance): void {
  const send = (reply: FastifyReply, status: number, description: string, minor = minorForStatus(status)): FastifyReply =>
    reply.code(status).type('application/json; charset=utf-8').send(imsxStatus('failure', minor, description))

  app.setErrorHandler((error: FastifyError | ImsxError | AppError, request, reply) => {
    if (error instanceof ImsxError) {
      for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value)
      if (error.statusCode >= 500) request.log.warn({ err: error }, error.message)
      return send(reply, error.statusCode, error.message, error.codeMinor)
    }
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error.cause ?? error }, error.message)
      return send(reply, error.statusCode, error.message)
    }
    if (error.validation !== undefined) {
      const where = error.validationContext ?? 'body'
      return send(reply, 400, validationProblem(error.validation, where).detail, where === 'querystring' ? 'invalid_query_parameter' : 'invalid_data')
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable')
      void reply.header('Retry-After', '5')
      return send(reply, 503, 'The database is unavailable; nothing was changed. Try again shortly.')
    }
    const status = error.statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      const described = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Send the body as application/json (a JSON-LD credential or profile) or text/plain (a compact JWS).' : error.message
      return send(reply, status, described)
    }
    request.log.error({ err: error }, 'unhandled error')
    return send(reply, 500, 'Something went wrong on our side; the error has been logged.')
  })

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(OPEN_BADGES_API_PATH.length)
    const allow = METHODS[path]
    if (allow !== undefined) return send(reply.header('Allow', allow), 405, `${OPEN_BADGES_API_PATH}${path} does not answer ${request.method}; it answers ${allow}.`)
    return send(reply, 404, `No resource of the Open Badges API at ${OPEN_BADGES_API_PATH}${path}.`)
  })
}
