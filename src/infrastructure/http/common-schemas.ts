import type { FastifyReply } from 'fastify'
import { EARLIEST_DATE, LATEST_DATE, PROBLEMS, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '../../kernel/errors.js'

/**
 * Schemas every channel shares: request fragments, and the pieces of the
 * response contract (the problem document, signed documents, pages and
 * files). Response schemas are also what Fastify serializes JSON replies
 * with (fast-json-stringify): a field a schema does not name never leaves the
 * service, and one it requires must be there.
 */

/**
 * An RFC 3339 date-time within the years the service accepts (1900 to 2200):
 * year 0000 or 9999 is a typo or a probe, and dates beyond JavaScript's range
 * would break date arithmetic far from the request.
 */
export const dateTime = { type: 'string', format: 'date-time', maxLength: 40, formatMinimum: EARLIEST_DATE, formatMaximum: LATEST_DATE } as const

/** A date-time the service writes (ISO 8601, UTC). */
export const timestamp = { type: 'string', format: 'date-time' } as const
export const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const
export const nullableString = { type: ['string', 'null'] } as const

/**
 * Data the service passes through as it was stored (audit snapshots, an
 * order's approval): serialized with JSON.stringify, never reshaped.
 */
export const freeForm = (description: string): { description: string } => ({ description })

/**
 * A signed document (credential, status list) or other JSON-LD document as
 * the service stored or built it. Deliberately typeless: these are sent as
 * JSON text that no serializer touches, and a typeless schema, should an
 * object ever reach fast-json-stringify, is serialized by JSON.stringify
 * rather than reduced to the properties a schema names.
 */
export const signedDocument = (description: string): { description: string } => ({ description })

/** The RFC 9457 problem document every error is answered with: "Problem" in /openapi.json. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'An RFC 9457 problem document; `type` is stable (urn:tessera:problem:<code>, docs/errors.md).',
  additionalProperties: false,
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', enum: Object.keys(PROBLEMS).map((code) => `${PROBLEM_TYPE_BASE}${code}`) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request path' },
    errors: {
      type: 'array',
      description: 'validation_failed: the rules the request broke',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          in: { type: 'string', description: 'body, querystring, params or headers; items[n] for an item of a batch' },
          path: { type: 'string', description: 'JSON Pointer into that part of the request' },
          message: { type: 'string' },
          params: freeForm('The rule\'s parameters (ajv)')
        }
      }
    },
    existing: {
      type: 'object',
      description: 'duplicate_credential: the credential the recipient already holds',
      additionalProperties: false,
      required: ['id', 'url'],
      properties: { id: { type: 'string' }, url: { type: 'string' } }
    },
    rule: { type: 'string', description: 'recertification_refused: the rule that refused it' },
    achievementId: { type: 'string', description: 'achievement_archived: the archived achievement' },
    url: { type: 'string', description: 'achievement_image_refused: the image URL that was refused' },
    reason: { type: 'string', enum: ['not-https', 'unresolvable', 'private-address', 'unreachable', 'timeout', 'redirect', 'http-status', 'too-large', 'not-an-image'], description: 'achievement_image_refused: why' },
    field: { type: 'string', description: 'activity_refused: the field the refusal is about' },
    items: {
      type: 'array',
      description: 'activity_refused (an import): every refused item, by its index (JSON) or spreadsheet row (CSV)',
      items: { type: 'object', additionalProperties: false, properties: { index: { type: 'integer' }, row: { type: 'integer' }, message: { type: 'string' } } }
    },
    application: { type: 'string', description: 'application_pending: the application already waiting for review' },
    state: { type: 'string', description: 'application_decided: approved or rejected' },
    version: { type: 'integer', description: 'application_decided: the version an approval made' },
    progress: { type: 'string', description: 'recertification_refused (an application): the progress in words' },
    verification: freeForm('ce_credential_refused: the verifier\'s status and checks')
  }
} as const

const problemRef = { $ref: 'Problem#' } as const

export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 406 | 408 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 503

const problemsByStatus = new Map<number, string[]>()
for (const [code, entry] of Object.entries(PROBLEMS)) problemsByStatus.set(entry.status, [...problemsByStatus.get(entry.status) ?? [], code])

/** One problem response: its description lists the catalogue codes of that status. */
export function problemResponse (status: ProblemStatus, description?: string): { description: string, content: Record<string, { schema: typeof problemRef }> } {
  const codes = (problemsByStatus.get(status) ?? ['client_error']).map((code) => `\`${code}\``).join(', ')
  return { description: `${description ?? PROBLEMS[(problemsByStatus.get(status)?.[0] ?? 'client_error') as keyof typeof PROBLEMS].title} (${codes})`, content: { [PROBLEM_CONTENT_TYPE]: { schema: problemRef } } }
}

/** The problem responses a route can give, by status. A description replaces the catalogue's title. */
export function problems (...statuses: Array<ProblemStatus | [ProblemStatus, string]>): Record<string, ReturnType<typeof problemResponse>> {
  return Object.fromEntries(statuses.map((s) => Array.isArray(s) ? [String(s[0]), problemResponse(s[0], s[1])] : [String(s), problemResponse(s)]))
}

/** Whether a response entry is a problem response (application/problem+json). */
export function isProblemResponse (response: unknown): boolean {
  return typeof response === 'object' && response !== null && PROBLEM_CONTENT_TYPE in ((response as { content?: object }).content ?? {})
}

/**
 * A body that is not JSON (pages, images, PDFs, JWTs, CSS), by content type.
 * Such bodies are strings or buffers: Fastify sends them as they are.
 */
export function bodyOf (description: string, types: readonly string[], schema: Record<string, unknown> = { type: 'string' }): { description: string, content: Record<string, { schema: Record<string, unknown> }> } {
  return { description, content: Object.fromEntries(types.map((type) => [type, { schema }])) }
}

const binary = { type: 'string', format: 'binary' } as const
const html = { type: 'string', description: 'An HTML page' } as const

/** An HTML page. */
export const htmlPage = (description: string): ReturnType<typeof bodyOf> => bodyOf(description, ['text/html'], html)
/** A file (image, PDF): bytes, by content type. */
export const fileOf = (description: string, types: readonly string[]): ReturnType<typeof bodyOf> => bodyOf(description, types, binary)

/**
 * A signed document or JSON-LD document in each of its media types, sent as
 * the JSON text the service holds (byte for byte).
 */
export const jsonLdDocument = (description: string, types: readonly string[]): ReturnType<typeof bodyOf> =>
  bodyOf(description, types, signedDocument(description))

/** No body (204, 303, 304), with the headers that carry the answer. */
export function noBody (description: string, headers?: Record<string, { type: 'string', description: string }>): { description: string, type: 'null', headers?: Record<string, { type: 'string', description: string }> } {
  return { description, type: 'null', ...(headers !== undefined ? { headers } : {}) }
}

/**
 * Sends a noBody response. A route's reply is typed from its response
 * schemas, where `type: 'null'` reads as a null body; this sends none.
 */
export async function sendNoBody (reply: FastifyReply, status: 204 | 303 | 304): Promise<FastifyReply> {
  return await reply.code(status).send()
}

export const locationHeader = { Location: { type: 'string', description: 'The URL of what was created' } } as const
