import { randomBytes } from 'node:crypto'

/**
 * A new random public id: 96 bits, base64url (16 characters). Credential URLs
 * are public but only shared by their holders, so ids must not be guessable.
 */
export function newId (): string {
  return randomBytes(12).toString('base64url')
}

/** The characters of every id the service mints (base64url); ids in URLs and request bodies must match. */
export const ID_CHARS = 'A-Za-z0-9_-'
export const ID_PATTERN = `^[${ID_CHARS}]{1,64}$`
