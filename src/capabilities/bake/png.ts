import { inflateSync } from 'node:zlib'

/**
 * Open Badges 3.0 baking in PNG (section 5.3.1): one `iTXt` chunk, keyword
 * `openbadgecredential`, uncompressed, holding the credential (JSON or a
 * compact JWS). Chunks are handled byte by byte: no image decoding.
 *
 * Every PNG from outside is hostile: a compressed text chunk of 4 KiB can
 * inflate to 4 MiB, and sixty of them killed the 192 MiB production heap.
 * So only the credential chunk is ever inflated, with an output limit; every
 * other text chunk is skipped by its keyword, and the chunk counts are capped.
 */
export const PNG_KEYWORD = 'openbadgecredential'
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export class BakingError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'BakingError'
  }
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

/** CRC-32 as PNG chunks use it (ISO 3309); written out because zlib.crc32 needs Node 20.15. */
function crc32 (bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** What reading one PNG may cost; past any of these it is refused with a BakingError. */
export const PNG_LIMITS = {
  /**
   * Chunks in one file. libpng writes image data in 8 KiB IDAT chunks, so a
   * 2 MiB upload (the /verify limit) has about 260; a file of nothing but
   * empty 12-byte chunks would have 170,000.
   */
  chunks: 10_000,
  /** tEXt, zTXt and iTXt chunks: libpng's own default cap on kept ancillary chunks (PNG_USER_CHUNK_CACHE_MAX). */
  textChunks: 1_000,
  /**
   * Bytes of text inflated from the whole file. Only the one credential chunk
   * is inflated, so this is also its limit: the size of a verify request body,
   * as a larger credential could not be verified anyway (verification/limits.ts
   * LIMITS.bodyBytes; spelt here, since verification reads baked images and
   * the capability folders import one way only).
   */
  inflatedBytes: 256 * 1024
} as const

const TEXT_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt'])

interface Chunk { type: string, data: Buffer }

export function isPng (bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(SIGNATURE)
}

/** The chunks one at a time (views into `png`, nothing copied), within PNG_LIMITS. */
function * readChunks (png: Buffer): Generator<Chunk> {
  if (!isPng(png)) throw new BakingError('The file is not a PNG image.')
  let at = 8
  let count = 0
  let textCount = 0
  while (at < png.length) {
    if (at + 12 > png.length) throw new BakingError('The PNG image is truncated.')
    const length = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    if (at + 12 + length > png.length) throw new BakingError(`The PNG chunk "${type}" is truncated.`)
    if (count === 0 && type !== 'IHDR') throw new BakingError('The PNG image does not start with its header chunk.')
    if (++count > PNG_LIMITS.chunks) throw new BakingError(`The PNG image has more than ${PNG_LIMITS.chunks} chunks.`)
    if (TEXT_CHUNKS.has(type) && ++textCount > PNG_LIMITS.textChunks) throw new BakingError(`The PNG image has more than ${PNG_LIMITS.textChunks} text chunks (tEXt, zTXt, iTXt).`)
    yield { type, data: png.subarray(at + 8, at + 8 + length) }
    at += 12 + length
    if (type === 'IEND') return
  }
  if (count === 0) throw new BakingError('The PNG image does not start with its header chunk.')
}

function writeChunks (chunks: readonly Chunk[]): Buffer {
  const parts: Buffer[] = [SIGNATURE]
  for (const chunk of chunks) {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(chunk.data.length, 0)
    head.write(chunk.type, 4, 'latin1')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), chunk.data])), 0)
    parts.push(head, chunk.data, crc)
  }
  return Buffer.concat(parts)
}

/** An iTXt chunk's keyword (1 to 79 Latin-1 bytes before a NUL), read without touching its text. */
function itxtKeyword (data: Buffer): string | undefined {
  const end = data.subarray(0, 80).indexOf(0)
  return end < 1 ? undefined : data.toString('latin1', 0, end)
}

const KiB = (bytes: number): string => `${bytes / 1024} KiB`

/**
 * The text of the credential's iTXt chunk: after the keyword, a compression
 * flag and method, a language tag and a translated keyword, each NUL-ended.
 * Inflated (when compressed) only up to PNG_LIMITS.inflatedBytes.
 */
function credentialText (data: Buffer): string {
  const at = PNG_KEYWORD.length + 1
  const flag = data[at]
  const method = data[at + 1]
  const languageEnd = data.indexOf(0, at + 2)
  const translatedEnd = languageEnd === -1 ? -1 : data.indexOf(0, languageEnd + 1)
  const chunk = `The "${PNG_KEYWORD}" iTXt chunk`
  if (translatedEnd === -1 || (flag !== 0 && flag !== 1)) throw new BakingError(`${chunk} is malformed (its header fields are incomplete).`)
  const body = data.subarray(translatedEnd + 1)
  if (flag === 0) {
    if (body.length > PNG_LIMITS.inflatedBytes) throw new BakingError(`${chunk} holds more than ${KiB(PNG_LIMITS.inflatedBytes)}; a baked credential is at most that.`)
    return body.toString('utf8')
  }
  if (method !== 0) throw new BakingError(`${chunk} names compression method ${String(method)}; PNG defines only 0 (zlib).`)
  try {
    // maxOutputLength stops zlib as soon as the output passes it: a bomb costs the limit, not its size.
    return inflateSync(body, { maxOutputLength: PNG_LIMITS.inflatedBytes }).toString('utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new BakingError(`${chunk} inflates to more than ${KiB(PNG_LIMITS.inflatedBytes)}; a baked credential is at most that.`)
    throw new BakingError(`${chunk} is not valid zlib data (${(error as Error).message}).`)
  }
}

const isCredentialChunk = (chunk: Chunk): boolean => chunk.type === 'iTXt' && itxtKeyword(chunk.data) === PNG_KEYWORD

/** Bakes `credential` into a PNG, replacing any credential already baked in it. */
export function bakePng (png: Buffer, credential: string): Buffer {
  const chunks = [...readChunks(png)].filter((c) => !isCredentialChunk(c))
  const data = Buffer.concat([Buffer.from(PNG_KEYWORD, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(credential, 'utf8')])
  // Right after IHDR: readers that stop early still find it.
  return writeChunks([chunks[0]!, { type: 'iTXt', data }, ...chunks.slice(1)])
}

/**
 * The credential baked in a PNG; undefined when there is none. Throws
 * BakingError for a broken file, two credentials, or anything past PNG_LIMITS.
 * Other text chunks are recognised by their keyword and never inflated.
 */
export function extractFromPng (png: Buffer): string | undefined {
  let baked: Chunk | undefined
  for (const chunk of readChunks(png)) {
    if (!isCredentialChunk(chunk)) continue
    if (baked !== undefined) throw new BakingError('The PNG image holds more than one baked credential.')
    baked = chunk
  }
  return baked === undefined ? undefined : credentialText(baked.data)
}
