import type { FromSchema } from 'json-schema-to-ts'

/** The images a design holds, by slot. */
export const SLOTS = ['logo', 'artwork', 'seal', 'signature1', 'signature2'] as const
export type Slot = typeof SLOTS[number]

/** What the wording may name: filled in as plain text when a certificate is drawn (wording.ts). */
export const PLACEHOLDERS = ['holderName', 'achievementName', 'issuerName', 'awardDate', 'validUntil'] as const
export type Placeholder = typeof PLACEHOLDERS[number]

const colour = { type: ['string', 'null'], pattern: '^#[0-9a-fA-F]{6}$', description: 'A colour as #rrggbb; null for the service\'s default (PRIMARY_COLOR / ACCENT_COLOR)' } as const
const wordingLine = (maxLength: number, description: string) => ({ type: ['string', 'null'], minLength: 1, maxLength, description: `${description}; plain text, with {holderName}, {achievementName}, {issuerName}, {awardDate} or {validUntil}; null for the default` }) as const

const signatory = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'title'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, description: 'Printed under the signature' },
    title: { type: 'string', maxLength: 100, description: 'Printed under the name ("Executive Director")' }
  }
} as const

/** PUT /achievements/:id/design: everything but the images (sent one by one, as raw bodies). */
export const designBody = {
  examples: [{
    primaryColor: '#1d3557',
    accentColor: '#e63946',
    titleLine: 'Certificate of Certification',
    statementBefore: 'This certifies that',
    statementAfter: 'has met the requirements of {issuerName} and holds',
    signatories: [{ name: 'Dana Whitfield', title: 'Executive Director' }]
  }],
  type: 'object',
  additionalProperties: false,
  properties: {
    primaryColor: colour,
    accentColor: colour,
    titleLine: wordingLine(120, 'The certificate\'s title, under the issuer\'s name ("Certificate of Certification")'),
    statementBefore: wordingLine(300, 'The line before the holder\'s name (default "This certifies that")'),
    statementAfter: wordingLine(300, 'The line after the holder\'s name (default "has earned")'),
    signatories: { type: 'array', maxItems: 2, items: signatory, description: 'Up to two, in print order; their signature images are the slots signature1 and signature2' }
  }
} as const
export type DesignBody = FromSchema<typeof designBody>

const image = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'mediaType', 'sha256', 'bytes', 'updatedAt', 'updatedBy'],
  properties: {
    url: { type: 'string', description: 'Where the image is served' },
    mediaType: { type: 'string', enum: ['image/png', 'image/svg+xml'] },
    sha256: { type: 'string', description: 'Of the bytes, base64url' },
    bytes: { type: 'integer' },
    updatedAt: { type: 'string', format: 'date-time' },
    updatedBy: { type: 'string' }
  }
} as const

export const designResource = {
  type: 'object',
  additionalProperties: false,
  required: ['achievementId', 'primaryColor', 'accentColor', 'titleLine', 'statementBefore', 'statementAfter', 'signatories', 'images', 'updatedAt', 'updatedBy'],
  properties: {
    achievementId: { type: 'string' },
    primaryColor: { type: ['string', 'null'] },
    accentColor: { type: ['string', 'null'] },
    titleLine: { type: ['string', 'null'] },
    statementBefore: { type: ['string', 'null'] },
    statementAfter: { type: ['string', 'null'] },
    signatories: { type: 'array', items: signatory },
    images: {
      type: 'object',
      additionalProperties: false,
      description: 'The stored images by slot (absent slots have none)',
      properties: Object.fromEntries(SLOTS.map((slot) => [slot, image])) as Record<Slot, typeof image>
    },
    updatedAt: { type: ['string', 'null'], format: 'date-time', description: 'null when the achievement has no design (the defaults)' },
    updatedBy: { type: ['string', 'null'] }
  }
} as const
export type DesignResource = FromSchema<typeof designResource>
