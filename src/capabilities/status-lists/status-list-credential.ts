import type { PublicUrls } from '../../kernel/public-urls.js'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import { encodeList } from './bitstring.js'
import { isoSeconds } from '../../kernel/time.js'

/** How long a signed status list credential stays valid; it is re-signed well before. */
export const STATUS_LIST_VALIDITY_MS = 30 * 24 * 3600 * 1000
/** A list is re-signed when it is served with less than this left. */
export const STATUS_LIST_REFRESH_MS = 15 * 24 * 3600 * 1000

/** Builds the unsigned BitstringStatusListCredential for a list's current bits (pure). */
export function buildStatusListCredential (input: {
  listId: string
  issuerId: string
  purpose: string
  bits: Uint8Array
  now: Date
  urls: PublicUrls
}): { credential: Record<string, unknown> & { id: string, issuer: string }, validUntil: Date } {
  const url = input.urls.statusList(input.listId)
  const validUntil = new Date(input.now.getTime() + STATUS_LIST_VALIDITY_MS)
  return {
    validUntil,
    credential: {
      '@context': [CONTEXTS.credentialsV2],
      id: url,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: input.urls.issuer(input.issuerId),
      validFrom: isoSeconds(input.now),
      validUntil: isoSeconds(validUntil),
      credentialSubject: {
        id: `${url}#list`,
        type: 'BitstringStatusList',
        statusPurpose: input.purpose,
        encodedList: encodeList(input.bits)
      }
    }
  }
}
