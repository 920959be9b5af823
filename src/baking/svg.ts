import { BakingError } from './png.js'

/**
 * Open Badges 3.0 baking in SVG (section 5.3.2): the `openbadges` namespace on
 * the root and one `<openbadges:credential>` right after `<svg>`, the
 * credential (JSON or a compact JWS) inside CDATA.
 */

export const OPENBADGES_NAMESPACE = 'https://purl.imsglobal.org/ob/v3p0'

const ROOT = /<svg\b[^>]*>/
const BAKED = /<openbadges:credential\b([^>]*?)(?:\/>|>([\s\S]*?)<\/openbadges:credential>)/g
const VERIFY_ATTRIBUTE = /\bverify\s*=\s*(?:"([^"]*)"|'([^']*)')/

/** "]]>" cannot appear inside CDATA: split it across two sections. */
const cdata = (text: string): string => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`

/** Bakes `credential` into an SVG document, replacing any credential already baked in it. */
export function bakeSvg (svg: string, credential: string): string {
  const clean = svg.replace(BAKED, '')
  const root = ROOT.exec(clean)
  if (root === null) throw new BakingError('The file is not an SVG image (no <svg> element).')
  const tag = root[0].includes('xmlns:openbadges=') ? root[0] : root[0].replace(/^<svg\b/, `<svg xmlns:openbadges="${OPENBADGES_NAMESPACE}"`)
  const at = root.index
  return clean.slice(0, at) + tag + `<openbadges:credential>${cdata(credential)}</openbadges:credential>` + clean.slice(at + root[0].length)
}

function xmlText (content: string): string {
  return content.replace(/<!\[CDATA\[([\s\S]*?)\]\]>|&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);|([^<&]+)/g, (_, data: string | undefined, entity: string | undefined, text: string | undefined) => {
    if (data !== undefined) return data
    if (text !== undefined) return text
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: '\'' }
    if (entity !== undefined && entity in named) return named[entity]!
    return String.fromCodePoint(entity?.startsWith('#x') === true ? parseInt(entity.slice(2), 16) : parseInt(entity?.slice(1) ?? '0', 10))
  })
}

/**
 * The credential baked in an SVG; undefined when there is none. A compact JWS
 * may also sit in a `verify` attribute (as in 1EdTech's own baked examples).
 */
export function extractFromSvg (svg: string): string | undefined {
  if (ROOT.exec(svg) === null) throw new BakingError('The file is not an SVG image (no <svg> element).')
  const baked = [...svg.matchAll(BAKED)]
  if (baked.length > 1) throw new BakingError('The SVG image holds more than one baked credential.')
  const [match] = baked
  if (match === undefined) return undefined
  const content = match[2] === undefined ? '' : xmlText(match[2]).trim()
  if (content !== '') return content
  const verify = VERIFY_ATTRIBUTE.exec(match[1] ?? '')
  const attribute = verify?.[1] ?? verify?.[2]
  return attribute === undefined ? undefined : xmlText(attribute).trim()
}
