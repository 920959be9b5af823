import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js'
import { fileURLToPath } from 'node:url'

/**
 * The images the service draws itself: a default badge for achievements
 * without an image, and the 1200×627 preview (og:image) with the status on
 * it. Drawn as SVG, rasterised with resvg using the bundled DejaVu fonts, so
 * the output is the same on every machine (no system fonts are read).
 */

const FONTS_DIR = new URL('../../../assets/fonts/', import.meta.url)
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => fileURLToPath(new URL(f, FONTS_DIR)))

export interface Palette { primary: string, accent: string }

/** The tones a status is drawn in (presentation/status-banner.ts decides which applies). */
export type BannerTone = 'valid' | 'expired' | 'revoked' | 'superseded' | 'pending' | 'invalid'

const TONE_COLOURS: Record<BannerTone, string> = {
  valid: '#0b6e4f',
  expired: '#8a4b00',
  revoked: '#a4161a',
  superseded: '#5a4b81',
  pending: '#2f4b7c',
  invalid: '#a4161a'
}

export const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', '\'': '&apos;' })[c] ?? c)

/** Greedy word wrap to at most `lines` lines of `width` characters, the last one ellipsised. */
export function wrap (text: string, width: number, lines: number): string[] {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const next = line === '' ? word : `${line} ${word}`
    if (next.length <= width) {
      line = next
      continue
    }
    if (line !== '') out.push(line)
    line = word.length > width ? `${word.slice(0, width - 1)}…` : word
  }
  if (line !== '') out.push(line)
  if (out.length <= lines) return out
  const kept = out.slice(0, lines)
  kept[lines - 1] = `${kept[lines - 1]!.slice(0, Math.max(0, width - 1))}…`
  return kept
}

const textLines = (lines: string[], x: number, y: number, step: number, attributes: string): string =>
  lines.map((l, i) => `<text x="${x}" y="${y + i * step}" ${attributes}>${escapeXml(l)}</text>`).join('')

/** A round badge with the achievement and issuer names (400×400). */
export function defaultBadgeSvg (input: { achievementName: string, issuerName: string, palette: Palette }): string {
  const { primary, accent } = input.palette
  const name = wrap(input.achievementName, 16, 3)
  const issuer = wrap(input.issuerName, 26, 2)
  const nameTop = 200 - (name.length - 1) * 18
  return '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400" role="img">' +
    `<title>${escapeXml(input.achievementName)}, ${escapeXml(input.issuerName)}</title>` +
    `<circle cx="200" cy="200" r="192" fill="${primary}"/>` +
    '<circle cx="200" cy="200" r="170" fill="#ffffff"/>' +
    `<circle cx="200" cy="200" r="160" fill="none" stroke="${accent}" stroke-width="6"/>` +
    textLines(name, 200, nameTop, 36, `text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="30" fill="${primary}"`) +
    textLines(issuer, 200, 300, 20, 'text-anchor="middle" font-family="DejaVu Sans" font-size="15" fill="#333333"') +
    '</svg>'
}

/**
 * The social preview (og:image): 1200×627, with the status in words and
 * colour, and under it the renewal advice when there is one (two lines).
 */
export function previewSvg (input: { achievementName: string, holderName: string, issuerName: string, statusLabel: string, statusText: string, advice?: string, tone: BannerTone, palette: Palette }): string {
  const { primary } = input.palette
  const tone = TONE_COLOURS[input.tone]
  const name = wrap(input.achievementName, 30, 2)
  const holder = wrap(input.holderName, 40, 1)
  const status = wrap(input.statusText, 60, 1)
  // DejaVu Sans at 22 px averages about 12 px a character: 84 fit in the 1040 px inside the box.
  const advice = input.advice === undefined ? [] : wrap(input.advice, 84, 2)
  const boxTop = advice.length === 0 ? 480 : 456
  const boxHeight = advice.length === 0 ? 96 : 150
  return '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="627" viewBox="0 0 1200 627">' +
    '<rect width="1200" height="627" fill="#ffffff"/>' +
    `<rect width="1200" height="96" fill="${primary}"/>` +
    textLines(wrap(input.issuerName, 60, 1), 60, 62, 0, 'font-family="DejaVu Sans" font-weight="bold" font-size="34" fill="#ffffff"') +
    textLines(name, 60, 210, 72, `font-family="DejaVu Sans" font-weight="bold" font-size="60" fill="${primary}"`) +
    textLines(['Awarded to'], 60, 370, 0, 'font-family="DejaVu Sans" font-size="28" fill="#444444"') +
    textLines(holder, 60, 420, 0, 'font-family="DejaVu Sans" font-weight="bold" font-size="40" fill="#111111"') +
    `<rect x="60" y="${boxTop}" width="1080" height="${boxHeight}" rx="14" fill="${tone}"/>` +
    textLines([input.statusLabel.toUpperCase()], 90, boxTop + 60, 0, 'font-family="DejaVu Sans" font-weight="bold" font-size="34" fill="#ffffff"') +
    textLines(status, 420, boxTop + 60, 0, 'font-family="DejaVu Sans" font-size="26" fill="#ffffff"') +
    textLines(advice, 90, boxTop + 100, 30, 'font-family="DejaVu Sans" font-size="22" fill="#ffffff"') +
    '</svg>'
}

/**
 * Rasterises an SVG to PNG with the bundled fonts only. With `maxSide`, an
 * image larger than that is scaled down to fit: resvg allocates whatever size
 * the SVG asks for (30000×30000 took 37 s and 3.5 GiB; 1e9×1e9 panics and
 * aborts the process), so an SVG the service did not draw always gets one.
 */
export function svgToPng (svg: string, options: { maxSide?: number } = {}): Buffer {
  let fitTo: ResvgRenderOptions['fitTo'] = { mode: 'original' }
  if (options.maxSide !== undefined) {
    // Only its size is read here: no fonts needed.
    const { width, height } = new Resvg(svg, { font: { loadSystemFonts: false } })
    if (Math.max(width, height) > options.maxSide) fitTo = width >= height ? { mode: 'width', value: options.maxSide } : { mode: 'height', value: options.maxSide }
  }
  const resvg = new Resvg(svg, { fitTo, font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans' } })
  return resvg.render().asPng()
}
