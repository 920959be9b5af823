import type { FromSchema } from 'json-schema-to-ts'
import { dateTime } from '../http/common-schemas.js'
import { ID_PATTERN } from '../ids.js'

export const issueCredentialBody = {
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
    validFrom: dateTime,
    validUntil: dateTime,
    awardedDate: dateTime
  }
} as const

export type IssueCredentialBody = FromSchema<typeof issueCredentialBody>

export { idParams as credentialIdParams } from '../http/id-params.js'
