import { svgToPng } from '../../infrastructure/web/images.js'

/**
 * Whether fetched bytes are an image a badge can be baked into (PNG or SVG,
 * the two Open Badges baking defines) and is safe to serve from our origin.
 * The bytes decide, not the Content-Type the server claimed.
 */

/** The largest side of a PNG accepted, and of an SVG's rendering check (badge-images.ts renders at most 1024). */
const MAX_SIDE = 4096
const MAX_RENDERED_SIDE = 1024

export type ImageCheck =
  | { ok: true, mediaType: 'image/png' | 'image/svg+xml' }
  | { ok: false, why: string }

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * Why a PNG's chunk structure is broken, or undefined when it reads as the
 * badge download will read it (bake/png.ts): IHDR first, every chunk whole,
 * image data, IEND last. (Not bake/png.ts itself: bake sits above this folder.)
 */
function pngStructureProblem (bytes: Buffer): string | undefined {
  const seen = new Set<string>()
  for (let at = 8; at < bytes.length;) {
    if (at + 12 > bytes.length) return 'it is truncated'
    const length = bytes.readUInt32BE(at)
    const type = bytes.toString('latin1', at + 4, at + 8)
    if (at + 12 + length > bytes.length) return `its "${type}" chunk is truncated`
    if (seen.size === 0 && (type !== 'IHDR' || length !== 13)) return 'it does not start with its header chunk'
    seen.add(type)
    at += 12 + length
    if (type === 'IEND') return seen.has('IDAT') ? undefined : 'it holds no image data'
  }
  return 'it has no end chunk'
}

function checkPng (bytes: Buffer): ImageCheck {
  const problem = pngStructureProblem(bytes)
  if (problem !== undefined) return { ok: false, why: `it is not a readable PNG (${problem})` }
  const width = bytes.readUInt32BE(16)
  const height = bytes.readUInt32BE(20)
  if (width === 0 || height === 0 || width > MAX_SIDE || height > MAX_SIDE) return { ok: false, why: `the PNG is ${width}×${height} pixels; at most ${MAX_SIDE}×${MAX_SIDE} is accepted` }
  return { ok: true, mediaType: 'image/png' }
}

/**
 * What an SVG from outside may not hold: script or event handlers (badge.svg
 * is served from our origin), content that escapes the drawing
 * (foreignObject), references that load something from elsewhere when the
 * image is shown, and DTDs (entity expansion).
 */
const UNSAFE_SVG: Array<[RegExp, string]> = [
  [/<!DOCTYPE|<!ENTITY/i, 'a DOCTYPE or entity declaration'],
  [/<script\b/i, 'a <script> element'],
  [/\son[a-z]+\s*=/i, 'an event handler attribute (on…=)'],
  [/<foreignObject\b/i, 'a <foreignObject> element'],
  [/javascript:/i, 'a javascript: URL'],
  [/href\s*=\s*["']\s*(?!#|data:image\/)/i, 'a link or reference to another document (only #fragments and data:image/ are allowed)'],
  [/url\(\s*["']?\s*(?!#|data:image\/)/i, 'a url() reference to another document'],
  [/@import\b/i, 'an @import']
]

function checkSvg (bytes: Buffer): ImageCheck {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return { ok: false, why: 'it is neither a PNG nor UTF-8 text (an SVG)' }
  }
  if (!/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg\b/.test(text.replace(/^\uFEFF/, ''))) return { ok: false, why: 'it is not a PNG or an SVG image' }
  for (const [pattern, what] of UNSAFE_SVG) {
    if (pattern.test(text)) return { ok: false, why: `the SVG holds ${what}, which badge images may not` }
  }
  try {
    svgToPng(text, { maxSide: MAX_RENDERED_SIDE })
  } catch (error) {
    return { ok: false, why: `the SVG cannot be drawn (${error instanceof Error ? error.message : String(error)})` }
  }
  return { ok: true, mediaType: 'image/svg+xml' }
}

/** Judges an image's bytes: a PNG by its signature and chunks, an SVG by its root, its content and a test rendering. */
export function checkImage (bytes: Buffer): ImageCheck {
  if (bytes.length === 0) return { ok: false, why: 'the answer was empty' }
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return checkPng(bytes)
  return checkSvg(bytes)
}
