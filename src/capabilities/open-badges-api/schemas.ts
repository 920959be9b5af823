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
    // The spec's own syntax is YYYY-MM-DDThh:mm:ss (no zone: read as UTC); an RFC 3339 offset is accepted too.
    since: { type: 'string', maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|z|[+-]\\d{2}:\\d{2})?$', description: 'Only credentials issued (a new version) or stored after this date-time (ISO 8601; without a zone, UTC)' }
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

/** The `since` query as a moment: a date-time without a zone is UTC; undefined when it names no real moment (2026-02-30T00:00:00). */
export function readSince (since: string): Date | undefined {
  const [year, month, day] = since.slice(0, 10).split('-').map(Number) as [number, number, number]
  // Date.parse would roll 30 February over into March: only a calendar date that exists is read.
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined
  const ms = Date.parse(/(Z|z|[+-]\d{2}:\d{2})$/.test(since) ? since : `${since}Z`)
  return Number.isNaN(ms) ? undefined : new Date(ms)
}
