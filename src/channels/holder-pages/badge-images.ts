import { createHash } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import { bakePng } from '../../capabilities/bake/png.js'
import type { HolderView } from '../../capabilities/presentation/holder-view.js'
import { defaultBadgeSvg, svgToPng } from '../../infrastructure/web/images.js'

/**
 * The images badge.png and badge.svg are baked into: the achievement's own
 * image as the version was signed with it, when it is a data: PNG or SVG,
 * otherwise (none, or a remote URL the service will not fetch) the badge the
 * service draws.
 *
 * An own image is judged once per app, as the downloads would use it: an
 * SVG is rendered (and the PNG kept: rendering costs 15 ms or more), a PNG has
 * its chunks read. One the renderer cannot read would otherwise make every
 * download of every badge of that achievement a 500; it is replaced by the
 * drawn badge, and said once in the log rather than on every request.
 *
 * Without an own image, the badge artwork of the achievement's design is used
 * (its PNG was made and checked at upload, so nothing is judged or cached
 * here: a new upload shows at once); without that either, the drawn badge in
 * the design's colours (the view's palette).
 */

/** The largest side of a rendered own SVG, in pixels: badges show at a few hundred; this keeps a sharp copy at 4 MiB of pixels. */
export const MAX_RENDERED_SIDE = 1024
/** The judged images kept, in bytes; a deployment has tens of achievements, not hundreds. */
const REMEMBERED_BYTES = 16 * 1024 * 1024

const OWN_IMAGE = /^data:image\/(png|svg\+xml)(;base64)?,/

/** The image the version was signed with: an achievement edited since keeps its badges' images. */
const signedImage = (view: HolderView): string | undefined => view.fields.image?.url

function ownImage (url: string | undefined): { png?: Buffer, svg?: string } | undefined {
  const match = url === undefined ? null : OWN_IMAGE.exec(url)
  if (url === undefined || match === null) return undefined
  const payload = url.slice(match[0].length)
  const data = match[2] !== undefined ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8')
  return match[1] === 'png' ? { png: data } : { svg: data.toString('utf8') }
}

export class BadgeImages {
  /** By SHA-256 of the image URL: the PNG an own image bakes into, or null when it cannot be used. */
  readonly #judged = new LRUCache<string, { png: Buffer | null }>({ maxSize: REMEMBERED_BYTES, sizeCalculation: (judged) => 64 + (judged.png?.length ?? 0) })

  /** The image badge.png bakes the credential into. */
  png (view: HolderView, log: FastifyBaseLogger): Buffer {
    return this.#judge(view, log) ?? view.design?.images.artwork?.png ?? svgToPng(this.#drawn(view))
  }

  /** The image badge.svg bakes the credential into. */
  svg (view: HolderView, log: FastifyBaseLogger): string {
    if (this.#judge(view, log) !== undefined) return ownImage(signedImage(view))?.svg ?? this.#drawn(view)
    const artwork = view.design?.images.artwork
    return artwork?.mediaType === 'image/svg+xml' && artwork.bytes !== undefined ? artwork.bytes.toString('utf8') : this.#drawn(view)
  }

  #drawn (view: HolderView): string {
    return defaultBadgeSvg({ achievementName: view.fields.achievement.name, issuerName: view.fields.issuerName, palette: view.palette })
  }

  /** The PNG the achievement's own image bakes into; undefined when there is none or it cannot be used. */
  #judge (view: HolderView, log: FastifyBaseLogger): Buffer | undefined {
    const url = signedImage(view)
    if (url === undefined || !OWN_IMAGE.test(url)) return undefined
    const key = createHash('sha256').update(url).digest('base64url')
    const known = this.#judged.get(key)
    if (known !== undefined) return known.png ?? undefined
    let png: Buffer | null
    try {
      const own = ownImage(url)
      png = own?.png ?? svgToPng(own?.svg ?? '', { maxSide: MAX_RENDERED_SIDE })
      // What the download does with it: a PNG whose chunks cannot be read fails here, once, not per request.
      bakePng(png, '')
    } catch (error) {
      png = null
      log.warn({ achievementId: view.achievement.id, err: error }, 'The achievement\'s image cannot be read or rendered; its badges use the drawn default image instead.')
    }
    this.#judged.set(key, { png })
    return png ?? undefined
  }

  /** Forgets every image (the app closes). */
  clear (): void {
    this.#judged.clear()
  }
}
