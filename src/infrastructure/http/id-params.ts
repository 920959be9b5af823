import { ID_PATTERN } from '../../kernel/ids.js'

/** Route params of the form `/:id` where id is one of the service's short public ids. */
export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: ID_PATTERN } }
} as const
