import { randomBytes } from 'node:crypto'

/**
 * A new random public id: 96 bits, base64url (16 characters). Credential URLs
 * are public but only shared by their holders, so ids must not be guessable.
 */
export function newId (): string {
  return randomBytes(12).toString('base64url')
}

export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$'
