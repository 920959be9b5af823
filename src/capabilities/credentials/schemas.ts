import type { FromSchema } from 'json-schema-to-ts'
import { dateTime } from '../../infrastructure/http/common-schemas.js'
import { EARLIEST_DATE, LATEST_DATE } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'

/**
 * A date of an issue request: a calendar date (2026-12-04) or an RFC 3339
 * date-time, within the years the service accepts. What a date alone means
 * (the start or the end of that day, UTC) is issue/issue-dates.ts. Day-month
 * orders (12/04/2026) are refused: 4 December or 12 April cannot be told apart.
 */
export const issueDate = {
  type: 'string',
  maxLength: 40,
  description: 'A date (2026-12-04) or an RFC 3339 date-time (2026-12-04T09:00:00Z)',
  anyOf: [
    { format: 'date', formatMinimum: EARLIEST_DATE.slice(0, 10), formatMaximum: LATEST_DATE.slice(0, 10) },
    { format: 'date-time', formatMinimum: EARLIEST_DATE, formatMaximum: LATEST_DATE }
  ]
} as const

/** The body's own certificate (member) number: kept with the credential for search and the employer lookup, not signed. */
export const CERTIFICATE_NUMBER = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ./-]*$', description: 'The body\'s certificate or member number (letters, digits, space, . / -): kept with the credential for staff search and the public lookup; not part of the signed credential' } as const

export const issueCredentialBody = {
  examples: [{ achievementId: 'Jq3xw9Lk2PzR7tYb', recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-03-31T00:00:00Z' }],
  type: 'object',
  additionalProperties: false,
  required: ['achievementId', 'recipient'],
  properties: {
    achievementId: { type: 'string', pattern: ID_PATTERN },
    recipient: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'email'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
        email: { type: 'string', format: 'email', maxLength: 320 }
      }
    },
    validFrom: issueDate,
    validUntil: issueDate,
    awardedDate: issueDate,
    /** false: no email to the holder for this change (webhooks are told regardless). Default true. */
    notify: { type: 'boolean' },
    certificateNumber: CERTIFICATE_NUMBER
  }
} as const

export type IssueCredentialBody = FromSchema<typeof issueCredentialBody>

export { idParams as credentialIdParams } from '../../infrastructure/http/id-params.js'

export const versionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version'],
  properties: { id: { type: 'string', pattern: ID_PATTERN }, version: { type: 'integer', minimum: 1, maximum: 100000 } }
} as const

const note = { type: 'string', minLength: 1, maxLength: 1000, pattern: '\\S' } as const

export const revokeBody = {
  examples: [{ reason: 'Exam result annulled' }],
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: note }
} as const

/** A correction of the recipient's name or email (holders cannot edit these themselves). */
export const reissueBody = {
  examples: [{ reason: 'correction', recipient: { name: 'Jane Q. Assistant' }, note: 'Typo in the surname' }],
  type: 'object',
  additionalProperties: false,
  required: ['reason', 'recipient'],
  properties: {
    reason: { type: 'string', enum: ['correction'] },
    recipient: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
        email: { type: 'string', format: 'email', maxLength: 320 }
      }
    },
    note,
    notify: { type: 'boolean' }
  }
} as const

const points = { type: 'integer', minimum: 0, maximum: 10000 } as const

/**
 * Ajv checks a schema's allOf before its required, additionalProperties and
 * properties, and stops at the first failure: so the rule that ties "points"
 * to a method comes first (its error names both: validation-messages.ts), and
 * each branch checks its "method" first, so a body is judged by the branch it
 * asked for and not by the other one's "must not have the property".
 */
const methodIs = <M extends string>(method: M) => ({ allOf: [{ properties: { method: { const: method } } }] }) as const

export const recertifyBody = {
  examples: [{ method: 'continuing-education', points: { total: 62, approved: 31 } }, { method: 'exam' }],
  allOf: [
    { dependencies: { points: { properties: { method: { const: 'continuing-education' } } } } },
    {
      oneOf: [
        {
          type: 'object',
          ...methodIs('exam'),
          additionalProperties: false,
          required: ['method'],
          properties: { method: { const: 'exam' }, note, notify: { type: 'boolean' } }
        },
        {
          type: 'object',
          ...methodIs('continuing-education'),
          additionalProperties: false,
          required: ['method', 'points'],
          properties: {
            method: { const: 'continuing-education' },
            points: {
              type: 'object',
              additionalProperties: false,
              required: ['total', 'approved'],
              properties: { total: points, approved: points }
            },
            note,
            notify: { type: 'boolean' }
          }
        }
      ]
    }
  ]
} as const

/** A batch: `{ "items": [...] }` as JSON, or a CSV document (parsed in batch.ts). Items are validated one by one. */
export const batchBody = {
  examples: [{ items: [{ achievementId: 'Jq3xw9Lk2PzR7tYb', recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } }] }, 'achievementId,name,email\nJq3xw9Lk2PzR7tYb,Ana Ruiz,ana@example.com\n'],
  anyOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: { items: { type: 'array', minItems: 1, maxItems: 1000 }, notify: { type: 'boolean' } }
    },
    { type: 'string', minLength: 1 }
  ]
} as const

export const listCredentialsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    achievementId: { type: 'string', pattern: ID_PATTERN },
    email: { type: 'string', format: 'email', maxLength: 320 },
    status: { type: 'string', enum: ['valid', 'expired', 'revoked', 'superseded'] },
    expiresAfter: dateTime,
    expiresBefore: dateTime,
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    after: { type: 'string', pattern: ID_PATTERN }
  }
} as const

export type ListCredentialsQuery = FromSchema<typeof listCredentialsQuery>
