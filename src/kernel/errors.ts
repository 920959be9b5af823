import type { FastifyReply } from 'fastify'

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
  passkey_refused: { status: 401, title: 'The passkey was not accepted' },
  single_sign_on_refused: { status: 401, title: 'Single sign-on did not sign you in' },
  staff_user_exists: { status: 409, title: 'A staff user with this email already exists' },
  not_found: { status: 404, title: 'Not found' },
  credential_private: { status: 403, title: 'The holder made this credential\'s page private' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'No acceptable representation' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  conflict: { status: 409, title: 'Conflict' },
  duplicate_credential: { status: 409, title: 'The recipient already holds this achievement' },
  credential_revoked: { status: 409, title: 'The credential is revoked' },
  issuer_already_recognised: { status: 409, title: 'The issuer is already recognised' },
  achievement_archived: { status: 409, title: 'The achievement is archived' },
  idempotency_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still being served' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for another request' },
  recertification_refused: { status: 422, title: 'Recertification is not allowed' },
  ce_credential_refused: { status: 422, title: 'The continuing-education credential was refused' },
  continuing_education_not_offered: { status: 422, title: 'The achievement is not renewed by continuing education' },
  activity_refused: { status: 422, title: 'The continuing-education activity was refused' },
  evidence_refused: { status: 422, title: 'The evidence file was refused' },
  activity_frozen: { status: 409, title: 'The activity is counted by an application' },
  application_pending: { status: 409, title: 'A recertification application is already pending' },
  application_decided: { status: 409, title: 'The application has already been decided' },
  wallet_offer_unknown: { status: 404, title: 'No such wallet offer' },
  wallet_offer_expired: { status: 410, title: 'The wallet offer has expired' },
  wallet_offer_used: { status: 410, title: 'The wallet offer has been used' },
  wallet_proof_refused: { status: 400, title: 'The wallet\'s proof was not accepted' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  /** Any other 4xx: the status is kept as given. */
  client_error: { status: 400, title: 'The request cannot be served' },
  credential_link_unreadable: { status: 400, title: 'The credential could not be read from its link' },
  unknown_achievement: { status: 422, title: 'Unknown achievement' },
  achievement_image_refused: { status: 422, title: 'The achievement image was refused' },
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
export function codeForStatus (status: number): ProblemCode {
  // The wallet codes name one resource's states (an offer): a plugin's bare 410 is not one of them.
  const known = Object.entries(PROBLEMS).find(([code, entry]) => entry.status === status && code !== 'client_error' && code !== 'validation_failed' && !code.startsWith('wallet_'))
  return status === 400 ? 'validation_failed' : (known?.[0] as ProblemCode | undefined) ?? 'client_error'
}

/** The range of dates the service accepts anywhere: outside it, dates are typos or probes. */
export const EARLIEST_DATE = '1900-01-01T00:00:00Z'
export const LATEST_DATE = '2200-01-01T00:00:00Z'
