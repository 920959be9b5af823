import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

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
  not_acceptable: { status: 406, title: 'No acceptable representation' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unknown_achievement: { status: 422, title: 'Unknown achievement' },
  invalid_validity_period: { status: 422, title: 'Invalid validity period' },
  credential_invalid: { status: 422, title: 'The credential could not be built' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' }
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
    const status = (error as FastifyError).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      // A Fastify client error outside the catalogue's explicit mapping: keep its status, use our envelope.
      const code: ProblemCode = status === 404 ? 'not_found' : status === 415 ? 'unsupported_media_type' : status === 413 ? 'payload_too_large' : status === 406 ? 'not_acceptable' : 'validation_failed'
      return sendProblem(reply, code, error.message)
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(reply, 'internal_error', 'Something went wrong on our side; the error has been logged.')
  })

  app.setNotFoundHandler((request, reply) => sendProblem(reply, 'not_found', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`))
}
