import { deflateSync } from 'node:zlib'

/**
 * Files an attacker would upload to the verifiers: PNGs whose compressed text
 * chunks inflate far beyond their size, and SVGs built to make a backtracking
 * scanner go quadratic. Built byte by byte here so the tests need no fixtures.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const MiB = 1024 * 1024

function chunk (type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  // The extractors do not check CRCs; a zero keeps the generator short.
  return Buffer.concat([head, data, Buffer.alloc(4)])
}

const IHDR = (): Buffer => {
  const data = Buffer.alloc(13)
  data.writeUInt32BE(1, 0)
  data.writeUInt32BE(1, 4)
  data.set([8, 6, 0, 0, 0], 8)
  return chunk('IHDR', data)
}

/** An iTXt chunk whose text is `body` as stored: compressed (flag 1, method 0) or not. */
export function itxt (keyword: string, body: Buffer, compressed: boolean): Buffer {
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, compressed ? 1 : 0, 0, 0, 0]), body]))
}

export function png (...chunks: Buffer[]): Buffer {
  return Buffer.concat([SIGNATURE, IHDR(), ...chunks, chunk('IEND', Buffer.alloc(0))])
}

/**
 * The attack that killed `node --max-old-space-size=192`: 60 compressed iTXt
 * comment chunks of 4 KiB, each inflating to just under 4 MiB (the old
 * per-chunk limit), about 240 MiB in all from a 245 KiB file.
 */
export function zipBombPng (chunks = 60, inflatedBytes = 4 * MiB - 1024): Buffer {
  const bomb = deflateSync(Buffer.alloc(inflatedBytes, 0x20), { level: 9 })
  return png(...Array.from({ length: chunks }, (_, i) => itxt(`Comment${i}`, bomb, true)))
}

/** One `openbadgecredential` chunk whose compressed text inflates to `inflatedBytes`. */
export function oversizedCredentialPng (inflatedBytes = 64 * MiB): Buffer {
  return png(itxt('openbadgecredential', deflateSync(Buffer.alloc(inflatedBytes, 0x20), { level: 9 }), true))
}

/** One `openbadgecredential` chunk that claims zlib compression but holds garbage, and one whose stream is cut short. */
export function corruptCredentialPngs (): { garbage: Buffer, truncated: Buffer } {
  const whole = deflateSync(Buffer.from('{"type":["VerifiableCredential"]}'))
  return {
    garbage: png(itxt('openbadgecredential', Buffer.from('this is not zlib data at all'), true)),
    truncated: png(itxt('openbadgecredential', whole.subarray(0, whole.length - 6), true))
  }
}

/**
 * SVGs of at least `bytes` that a backtracking scanner reads quadratically:
 * `<openbadges:credential>` openings never closed; one element whose content
 * is unterminated `<![CDATA[` sections and `&#` references; `<svg` openings
 * with no `>` and no root at all.
 */
export function quadraticSvgs (bytes = 240 * 1024): { unclosed: string, fragments: string, rootless: string } {
  const root = '<svg xmlns="http://www.w3.org/2000/svg">'
  return {
    unclosed: root + '<openbadges:credential>'.repeat(Math.ceil(bytes / 23)) + '</svg>',
    fragments: root + '<openbadges:credential>' + '<![CDATA[a&#1&'.repeat(Math.ceil(bytes / 14)) + '</openbadges:credential></svg>',
    rootless: '<svg'.repeat(Math.ceil(bytes / 4))
  }
}
