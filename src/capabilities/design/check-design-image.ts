import { createHash } from 'node:crypto'
import { checkImage } from '../achievements/check-image.js'
import { svgToPng } from '../../infrastructure/web/images.js'
import { AppError } from '../../kernel/errors.js'

/** The largest image a design accepts, in bytes: a logo or a signature is tens of KiB; artwork a few hundred. */
export const MAX_DESIGN_IMAGE_BYTES = 512 * 1024
/** The side an SVG is rasterised to for drawing on certificates and cards (300 dpi at about 3.4 inches). */
const RASTER_SIDE = 1024

export interface CheckedDesignImage { mediaType: 'image/png' | 'image/svg+xml', bytes: Buffer, png: Buffer, sha256: string }

/**
 * Judges an uploaded design image with the achievement image checks
 * (achievements/check-image.ts: a PNG by its signature and chunks, an SVG by
 * its root, no script, event handlers, foreignObject, external references or
 * DTDs, and a test rendering), plus a size cap, and the type the upload
 * declared must be the type the bytes are. Returns the PNG renderers draw.
 */
export function checkDesignImage (bytes: Buffer, declaredType: string): CheckedDesignImage {
  if (bytes.length > MAX_DESIGN_IMAGE_BYTES) throw new AppError('payload_too_large', `The image is ${bytes.length} bytes; at most ${MAX_DESIGN_IMAGE_BYTES} (512 KiB) is accepted.`)
  const check = checkImage(bytes)
  if (!check.ok) throw new AppError('achievement_image_refused', `The image was refused: ${check.why}.`)
  if (check.mediaType !== declaredType) throw new AppError('achievement_image_refused', `The image was refused: it was sent as "${declaredType}" but its bytes are ${check.mediaType === 'image/png' ? 'a PNG' : 'an SVG'}.`)
  const png = check.mediaType === 'image/png' ? bytes : svgToPng(bytes.toString('utf8'), { maxSide: RASTER_SIDE })
  return { mediaType: check.mediaType, bytes, png, sha256: createHash('sha256').update(bytes).digest('base64url') }
}
