import { inflateSync } from 'node:zlib'

/**
 * Open Badges 3.0 baking in PNG (section 5.3.1): one `iTXt` chunk, keyword
 * `openbadgecredential`, uncompressed, holding the credential (JSON or a
 * compact JWS). Chunks are handled byte by byte: no image decoding.
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

interface Chunk { type: string, data: Buffer }

export function isPng (bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).equals(SIGNATURE)
}

function readChunks (png: Buffer): Chunk[] {
  if (!isPng(png)) throw new BakingError('The file is not a PNG image.')
  const chunks: Chunk[] = []
  let at = 8
  while (at < png.length) {
    if (at + 12 > png.length) throw new BakingError('The PNG image is truncated.')
    const length = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    if (at + 12 + length > png.length) throw new BakingError(`The PNG chunk "${type}" is truncated.`)
    chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) })
    at += 12 + length
    if (type === 'IEND') break
  }
  if (chunks[0]?.type !== 'IHDR') throw new BakingError('The PNG image does not start with its header chunk.')
  return chunks
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

/** The iTXt fields: keyword, compression flag and method, language, translated keyword, text. */
function parseItxt (data: Buffer): { keyword: string, text: string } | undefined {
  const keywordEnd = data.indexOf(0)
  if (keywordEnd < 1) return undefined
  const keyword = data.toString('latin1', 0, keywordEnd)
  const compressed = data[keywordEnd + 1] === 1
  const languageEnd = data.indexOf(0, keywordEnd + 3)
  const translatedEnd = languageEnd === -1 ? -1 : data.indexOf(0, languageEnd + 1)
  if (translatedEnd === -1) return undefined
  const body = data.subarray(translatedEnd + 1)
  const text = (compressed ? inflateSync(body, { maxOutputLength: 4 * 1024 * 1024 }) : body).toString('utf8')
  return { keyword, text }
}

/** Bakes `credential` into a PNG, replacing any credential already baked in it. */
export function bakePng (png: Buffer, credential: string): Buffer {
  const chunks = readChunks(png).filter((c) => !(c.type === 'iTXt' && parseItxt(c.data)?.keyword === PNG_KEYWORD))
  const data = Buffer.concat([Buffer.from(PNG_KEYWORD, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(credential, 'utf8')])
  // Right after IHDR: readers that stop early still find it.
  return writeChunks([chunks[0]!, { type: 'iTXt', data }, ...chunks.slice(1)])
}

/** The credential baked in a PNG; undefined when there is none. Throws BakingError for a broken file or two credentials. */
export function extractFromPng (png: Buffer): string | undefined {
  const baked = readChunks(png).filter((c) => c.type === 'iTXt').map((c) => parseItxt(c.data)).filter((t) => t?.keyword === PNG_KEYWORD)
  if (baked.length > 1) throw new BakingError('The PNG image holds more than one baked credential.')
  return baked[0]?.text
}
