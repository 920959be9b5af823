import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, codeForStatus, problemDocument, type ProblemCode, type ProblemDocument } from '../../kernel/errors.js'
import { isDatabaseUnavailable } from '../db/errors.js'
import { validationProblem } from './validation-messages.js'
import { sendError } from './browser-errors.js'
import { indexRouteMethods } from './method-not-allowed.js'

/**
 * The one error handler: every error a route throws, and every client error
 * Fastify raises itself, answered as application/problem+json from the
 * catalogue (kernel/errors.ts), or to a browser as an HTML page of the same
 * status (browser-errors.ts). Infrastructure, because it knows the
 * database's "unavailable" errors.
 */

/** Maps Fastify's own client errors (body parser, content type, validation) onto the catalogue. */
function fastifyClientProblem (error: FastifyError): { code: ProblemCode, detail: string, extra?: Record<string, unknown> } | undefined {
  if (error.validation !== undefined) return validationProblem(error.validation, error.validationContext ?? 'body')
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'malformed_json', detail: 'The request body is not valid JSON.' }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'malformed_json', detail: 'The request body is empty; a JSON document was expected.' }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload_too_large', detail: 'The request body is larger than this endpoint accepts.' }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return { code: 'unsupported_media_type', detail: 'Send the body as application/json.' }
  }
  if (error instanceof SyntaxError) return { code: 'malformed_json', detail: 'The request body is not valid JSON.' }
  return undefined
}

/**
 * The problem document for an error caught outside the request's own error
 * handler (one item of a batch): the same mapping, without a reply. Returns
 * whether it was a server fault, so the caller can log it.
 */
export function problemForError (error: unknown): { problem: ProblemDocument, serverFault: boolean } {
  if (error instanceof AppError) return { problem: problemDocument(error.code, error.message, error.extra), serverFault: error.statusCode >= 500 }
  const mapped = fastifyClientProblem(error as FastifyError)
  if (mapped !== undefined) return { problem: problemDocument(mapped.code, mapped.detail, mapped.extra), serverFault: false }
  if (isDatabaseUnavailable(error)) return { problem: problemDocument('database_unavailable', 'The database is unavailable; nothing was changed for this item. Try again shortly.'), serverFault: true }
  return { problem: problemDocument('internal_error', 'Something went wrong on our side with this item; the error has been logged.'), serverFault: true }
}

/**
 * Installs the one error handler and the not-found handler, which answers 405
 * with Allow when the path exists under other methods. Call it before any
 * route is registered: it indexes them as they are.
 */
export function installErrorHandling (app: FastifyInstance): void {
  const methods = indexRouteMethods(app)
  const send = (request: FastifyRequest, reply: FastifyReply, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): FastifyReply =>
    sendError(request, reply, problemDocument(code, detail, { instance: request.url, ...extra }))

  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error.cause ?? error }, error.message)
      if (error.code === 'unauthorized') void reply.header('WWW-Authenticate', 'Bearer realm="tessera"')
      return send(request, reply, error.code, error.message, error.extra)
    }
    const mapped = fastifyClientProblem(error as FastifyError)
    if (mapped !== undefined) return send(request, reply, mapped.code, mapped.detail, mapped.extra)
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable')
      void reply.header('Retry-After', '5')
      return send(request, reply, 'database_unavailable', 'The database is unavailable; nothing was changed. Try again shortly.')
    }
    const status = (error as FastifyError).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      // A client error outside the catalogue's explicit mapping (a plugin's
      // 410, 405...): keep its status, use our envelope.
      return send(request, reply, codeForStatus(status), error.message, { status })
    }
    request.log.error({ err: error }, 'unhandled error')
    return send(request, reply, 'internal_error', 'Something went wrong on our side; the error has been logged.')
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    // OPTIONS reaches here only as a preflight the CORS hook declined (the staff API, hardening.ts): that stays a 404.
    const allow = request.method === 'OPTIONS' ? [] : methods.allowed(request.url)
    if (allow.length > 0 && !allow.includes(request.method)) {
      void reply.header('Allow', allow.join(', '))
      return sendError(request, reply, problemDocument('method_not_allowed', `${path} does not answer ${request.method}; it answers ${allow.join(', ')}.`, { instance: request.url }), allow)
    }
    return send(request, reply, 'not_found', `No route for ${request.method} ${path}.`)
  })
}
