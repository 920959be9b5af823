import { previewSvg, wrap } from '../../infrastructure/web/images.js'
import type { Design } from './store.js'

/**
 * The social preview (og:image) of a credential of a designed achievement:
 * the service's drawing in the design's colours (they arrive in the palette),
 * with the logo, when there is one, at the right of the top band. Without a
 * logo it is previewSvg's drawing, unchanged.
 */
export function designedPreviewSvg (input: Parameters<typeof previewSvg>[0], design: Design | undefined): string {
  const logo = design?.images.logo?.png
  if (logo === undefined) return previewSvg(input)
  // Bold 34 px DejaVu is about 21 px a character (capitals more): 40 end before the logo's box at x 1020 (previewSvg allows 60).
  const svg = previewSvg({ ...input, issuerName: wrap(input.issuerName, 40, 1)[0] ?? '' })
  const image = `<image x="1020" y="12" width="160" height="72" preserveAspectRatio="xMaxYMid meet" href="data:image/png;base64,${logo.toString('base64')}"/>`
  return svg.replace(/<\/svg>$/, `${image}</svg>`)
}

/** What of the design changes the preview, for the key of a cache of rendered previews (the colours are in the palette). */
export const previewDesignKey = (design: Design | undefined): string => design?.images.logo?.sha256 ?? ''
