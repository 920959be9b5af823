import type { FromSchema } from 'json-schema-to-ts'
import { dateTime } from '../../infrastructure/http/common-schemas.js'

export const listAuditEventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    subjectType: { type: 'string', minLength: 1, maxLength: 64 },
    subjectId: { type: 'string', minLength: 1, maxLength: 128 },
    action: { type: 'string', minLength: 1, maxLength: 128 },
    actor: { type: 'string', minLength: 1, maxLength: 128 },
    since: dateTime,
    until: dateTime,
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    /** The `next` of the previous page: the id of its last (oldest) event. */
    after: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' }
  }
} as const

export type ListAuditEventsQuery = FromSchema<typeof listAuditEventsQuery>
