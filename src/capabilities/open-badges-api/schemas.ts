import { dateTime } from '../../infrastructure/http/common-schemas.js'

/** JSON schemas of the Open Badges API's requests (the routes' envelopes; credentials themselves are judged by the verifier). */

/** Most credentials one page of GET /credentials holds, and how many when the platform does not say. */
export const PAGE_LIMIT_MAX = 100
export const PAGE_LIMIT_DEFAULT = 50

export const credentialsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: PAGE_LIMIT_MAX, description: `Credentials per page (default ${PAGE_LIMIT_DEFAULT}, at most ${PAGE_LIMIT_MAX})` },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'The index of the first credential to return (zero indexed)' },
    since: { ...dateTime, description: 'Only credentials issued (a new version) or stored after this date-time' }
  }
} as const

/**
 * PUT /profile: the OB Profile fields this service reads. Name and email
 * become staff correction requests; description, url and phone are kept;
 * any other Profile field is refused by name rather than silently dropped.
 */
export const profileBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  properties: {
    '@context': { description: 'Accepted and not kept' },
    id: { type: 'string', maxLength: 200 },
    type: { anyOf: [{ type: 'string', const: 'Profile' }, { type: 'array', maxItems: 8, contains: { const: 'Profile' }, items: { type: 'string', maxLength: 100 } }] },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    email: { type: 'string', format: 'email', maxLength: 320 },
    description: { type: 'string', maxLength: 2000 },
    url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000 },
    phone: { type: 'string', maxLength: 50, pattern: '^[+0-9 ()./-]*$' }
  }
} as const

/** The profile as GET /profile and PUT /profile answer it. */
export const profileResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'email'],
  properties: {
    id: { type: 'string', description: 'urn:uuid: stable for the holder, not guessable by others' },
    type: { type: 'array', items: { type: 'string' } },
    name: { type: 'string', description: 'As on the holder\'s latest credential' },
    email: { type: 'string' },
    description: { type: 'string' },
    url: { type: 'string' },
    phone: { type: 'string' }
  }
} as const
