import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../infrastructure/db/errors.js'

/**
 * The error catalogue. Each entry has a stable code (the last segment of the
 * problem `type` URI), a real HTTP status and a title. Messages are written
 * where the error is raised and name the offending field in quotes.
 */
export const PROBLEMS = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  credential_private: { status: 403, title: 'The holder made this credential\'s page private' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'No acceptable representation' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  conflict: { status: 409, title: 'Conflict' },
  duplicate_credential: { status: 409, title: 'The recipient already holds this achievement' },
  credential_revoked: { status: 409, title: 'The credential is revoked' },
  idempotency_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still being served' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for another request' },
  recertification_refused: { status: 422, title: 'Recertification is not allowed' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  /** Any other 4xx: the status is kept as given. */
  client_error: { status: 400, title: 'The request cannot be served' },
  unknown_achievement: { status: 422, title: 'Unknown achievement' },
  invalid_validity_period: { status: 422, title: 'Invalid validity period' },
  credential_invalid: { status: 422, title: 'The credential could not be built' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  status_index_unavailable: { status: 503, title: 'No status-list index could be claimed' },
  database_unavailable: { status: 503, title: 'The database is unavailable' }
} as const

export type ProblemCode = keyof typeof PROBLEMS

export const PROBLEM_TYPE_BASE = 'urn:tessera:problem:'
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** An error the service means to report to the client, with a catalogue code. */
export class AppError extends Error {
  readonly statusCode: number
  constructor (
    readonly code: ProblemCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'AppError'
    this.statusCode = PROBLEMS[code].status
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} was not found.`)

export interface ProblemDocument {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  [extension: string]: unknown
}

export function problemDocument (code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): ProblemDocument {
  const entry = PROBLEMS[code]
  return { type: PROBLEM_TYPE_BASE + code, title: entry.title, status: entry.status, detail, ...extra }
}

export function sendProblem (reply: FastifyReply, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): FastifyReply {
  const body = problemDocument(code, detail, { instance: reply.request.url, ...extra })
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body)
}

/** The catalogue code for a 4xx status that reached the handler without one of ours. */
function codeForStatus (status: number): ProblemCode {
  const known = Object.entries(PROBLEMS).find(([code, entry]) => entry.status === status && code !== 'client_error' && code !== 'validation_failed')
  return status === 400 ? 'validation_failed' : (known?.[0] as ProblemCode | undefined) ?? 'client_error'
}

/** The range of dates the service accepts anywhere: outside it, dates are typos or probes. */
export const EARLIEST_DATE = '1900-01-01T00:00:00Z'
export const LATEST_DATE = '2200-01-01T00:00:00Z'

/** Maps Fastify's own client errors (body parser, content type, validation) onto the catalogue. */
function fastifyClientProblem (error: FastifyError): { code: ProblemCode, detail: string, extra?: Record<string, unknown> } | undefined {
  if (error.validation !== undefined) {
    const where = error.validationContext ?? 'body'
    const first = error.validation[0]
    const params = (first?.params ?? {}) as { missingProperty?: string, additionalProperty?: string }
    const path = (first?.instancePath ?? '').slice(1).replaceAll('/', '.')
    const subject = path === '' ? `The request ${where}` : `"${path}"`
    let detail: string
    if (first?.keyword === 'required') {
      detail = `${subject} must have the property "${params.missingProperty ?? '?'}".`
    } else if (first?.keyword === 'additionalProperties') {
      detail = `${subject} must not have the property "${params.additionalProperty ?? '?'}".`
    } else if (first?.keyword === 'formatMinimum' || first?.keyword === 'formatMaximum') {
      detail = `${subject} must be a date between ${EARLIEST_DATE.slice(0, 4)} and ${LATEST_DATE.slice(0, 4)}.`
    } else {
      detail = `${subject} ${first?.message ?? 'is not valid'}.`
    }
    return {
      code: 'validation_failed',
      detail,
      extra: { errors: error.validation.map((v) => ({ in: where, path: v.instancePath, message: v.message, params: v.params })) }
    }
  }
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

/** Installs the one error handler and the not-found handler. */
export function installErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error.cause ?? error }, error.message)
      if (error.code === 'unauthorized') void reply.header('WWW-Authenticate', 'Bearer realm="tessera"')
      return sendProblem(reply, error.code, error.message, error.extra)
    }
    const mapped = fastifyClientProblem(error as FastifyError)
    if (mapped !== undefined) return sendProblem(reply, mapped.code, mapped.detail, mapped.extra)
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable')
      void reply.header('Retry-After', '5')
      return sendProblem(reply, 'database_unavailable', 'The database is unavailable; nothing was changed. Try again shortly.')
    }
    const status = (error as FastifyError).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      // A client error outside the catalogue's explicit mapping (a 429 from a
      // rate limiter, a 405...): keep its status, use our envelope.
      const code = codeForStatus(status)
      const body = problemDocument(code, error.message, { instance: request.url, status })
      return reply.code(status).type(PROBLEM_CONTENT_TYPE).send(body)
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(reply, 'internal_error', 'Something went wrong on our side; the error has been logged.')
  })

  app.setNotFoundHandler((request, reply) => sendProblem(reply, 'not_found', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`))
}
