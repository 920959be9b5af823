import { gunzipSync, gzipSync } from 'node:zlib'

// Bitstring Status List v1.0: bit 0 is the most significant bit of byte 0;
// encodedList is multibase base64url ('u', no padding) of the GZIP-compressed bytes.

export const MIN_STATUS_LIST_SIZE = 131_072

export function emptyBitstring (size: number): Buffer {
  return Buffer.alloc(size / 8)
}

export function getBit (bits: Uint8Array, index: number): boolean {
  const byte = bits[index >> 3]
  if (byte === undefined) throw new RangeError(`Status index ${index} is outside the list.`)
  return (byte & (0x80 >> (index & 7))) !== 0
}

/** Returns a copy of `bits` with `index` set. */
export function withBitSet (bits: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(bits)
  if (index < 0 || index >= copy.length * 8) throw new RangeError(`Status index ${index} is outside the list.`)
  copy[index >> 3]! |= 0x80 >> (index & 7)
  return copy
}

export function encodeList (bits: Uint8Array): string {
  return 'u' + gzipSync(bits).toString('base64url')
}

/**
 * Decodes an encodedList. Accepts the multibase form ('u' + base64url) and, for
 * older StatusList2021 lists, plain base64url. Refuses lists that inflate past
 * `maxBytes` (a zip bomb) instead of exhausting memory.
 */
export function decodeList (encoded: string, maxBytes = 16 * 1024 * 1024): Buffer {
  const body = encoded.startsWith('u') ? encoded.slice(1) : encoded
  return gunzipSync(Buffer.from(body, 'base64url'), { maxOutputLength: maxBytes })
}
