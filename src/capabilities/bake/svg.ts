import { BakingError } from './png.js'

/**
 * Open Badges 3.0 baking in SVG (section 5.3.2): the `openbadges` namespace on
 * the root and one `<openbadges:credential>` right after `<svg>`, the
 * credential (JSON or a compact JWS) inside CDATA.
 *
 * Every SVG from outside is hostile. The scanners here use indexOf only and
 * remember where a search for a closing token came up empty, so no input makes
 * them read a character more than a few times: the lazy regular expressions
 * they replace spent 0.7 s on 225 KiB of unclosed elements, and 19 s on 240 KiB
 * of `<svg` openings without a `>`.
 */

export const OPENBADGES_NAMESPACE = 'https://purl.imsglobal.org/ob/v3p0'

/** The largest SVG read, in UTF-16 code units: the /verify upload limit, so the extractor's cost is its own guarantee. */
export const MAX_SVG_LENGTH = 2 * 1024 * 1024

const OPEN = '<openbadges:credential'
const CLOSE = '</openbadges:credential>'
const CDATA_OPEN = '<![CDATA['
const CDATA_CLOSE = ']]>'

/** As the regular expression `\b` sees it: true when `text[at]` would continue a word. */
const isWordChar = (text: string, at: number): boolean => {
  const c = text.charCodeAt(at)
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}

/**
 * `text.indexOf(token, from)` for calls with non-decreasing `from`: an answer
 * at or after `from` is still the answer, and "none" stays "none", so the
 * whole sequence of calls reads the text once.
 */
function forwardSearch (text: string, token: string): (from: number) => number {
  let found = -2
  return (from) => {
    if (found === -1 || (found >= from)) return found
    found = text.indexOf(token, from)
    return found
  }
}

interface Tag { start: number, end: number }

/** The first `<svg` root tag, up to its `>`. */
function rootTag (svg: string): Tag | undefined {
  for (let at = svg.indexOf('<svg'); at !== -1; at = svg.indexOf('<svg', at + 4)) {
    if (isWordChar(svg, at + 4)) continue
    const end = svg.indexOf('>', at)
    // No `>` after this opening means none after any later one either.
    return end === -1 ? undefined : { start: at, end: end + 1 }
  }
  return undefined
}

interface Baked extends Tag { attributes: string, content?: string }

/** Every `<openbadges:credential …/>` or `<openbadges:credential …>…</openbadges:credential>`, in order. */
function bakedElements (svg: string): Baked[] {
  const found: Baked[] = []
  const nextClose = forwardSearch(svg, CLOSE)
  let from = 0
  for (let at = svg.indexOf(OPEN); at !== -1; at = svg.indexOf(OPEN, from)) {
    from = at + 1
    const afterName = at + OPEN.length
    if (isWordChar(svg, afterName)) continue
    const gt = svg.indexOf('>', afterName)
    // No `>` after this opening means none after any later one either.
    if (gt === -1) break
    if (gt > afterName && svg[gt - 1] === '/') {
      found.push({ start: at, end: gt + 1, attributes: svg.slice(afterName, gt - 1) })
      from = gt + 1
      continue
    }
    const close = nextClose(gt + 1)
    // An opening never closed is not an element; the next opening may still be one.
    if (close === -1) continue
    found.push({ start: at, end: close + CLOSE.length, attributes: svg.slice(afterName, gt), content: svg.slice(gt + 1, close) })
    from = close + CLOSE.length
  }
  return found
}

/** "]]>" cannot appear inside CDATA: split it across two sections. */
const cdata = (text: string): string => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`

/** Bakes `credential` into an SVG document, replacing any credential already baked in it. */
export function bakeSvg (svg: string, credential: string): string {
  let clean = ''
  let kept = 0
  for (const element of bakedElements(svg)) {
    clean += svg.slice(kept, element.start)
    kept = element.end
  }
  clean += svg.slice(kept)
  const root = rootTag(clean)
  if (root === undefined) throw new BakingError('The file is not an SVG image (no <svg> element).')
  const tag = clean.slice(root.start, root.end)
  const withNamespace = tag.includes('xmlns:openbadges=') ? tag : `<svg xmlns:openbadges="${OPENBADGES_NAMESPACE}"${tag.slice(4)}`
  return clean.slice(0, root.start) + withNamespace + `<openbadges:credential>${cdata(credential)}</openbadges:credential>` + clean.slice(root.end)
}

const NAMED_ENTITIES = [['lt;', '<'], ['gt;', '>'], ['amp;', '&'], ['quot;', '"'], ['apos;', '\'']] as const
const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/**
 * The entity or character reference (`&amp;`, `&#38;`, `&#x26;`) starting at
 * `text[at]` (an `&`): its character and where it ends; undefined when there is
 * none. Reads only as far as the reference's own characters go.
 */
function reference (text: string, at: number): { character: string, end: number } | undefined {
  for (const [name, character] of NAMED_ENTITIES) {
    if (text.startsWith(name, at + 1)) return { character, end: at + 1 + name.length }
  }
  if (text[at + 1] !== '#') return undefined
  const hex = text[at + 2] === 'x'
  const digits = at + (hex ? 3 : 2)
  let end = digits
  while (end < text.length && (hex ? isHexDigit : isDigit)(text.charCodeAt(end))) end++
  if (end === digits || text[end] !== ';') return undefined
  const code = parseInt(text.slice(digits, end), hex ? 16 : 10)
  if (code > 0x10ffff) throw new BakingError(`The SVG image has a character reference "${text.slice(at, Math.min(end + 1, at + 24))}" beyond Unicode.`)
  return { character: String.fromCodePoint(code), end: end + 1 }
}

/**
 * Text content as XML reads it: CDATA sections unwrapped, the five named
 * entities and character references decoded, anything else (markup included)
 * kept as written. An unterminated CDATA section or reference stays literal.
 */
function xmlText (content: string): string {
  const nextLt = forwardSearch(content, '<')
  const nextAmp = forwardSearch(content, '&')
  const nextCdataClose = forwardSearch(content, CDATA_CLOSE)
  let out = ''
  let at = 0
  while (at < content.length) {
    const lt = nextLt(at)
    const amp = nextAmp(at)
    const next = lt === -1 ? amp : amp === -1 ? lt : Math.min(lt, amp)
    if (next === -1) return out + content.slice(at)
    out += content.slice(at, next)
    at = next
    if (next === lt) {
      const close = content.startsWith(CDATA_OPEN, at) ? nextCdataClose(at + CDATA_OPEN.length) : -1
      out += close === -1 ? '<' : content.slice(at + CDATA_OPEN.length, close)
      at = close === -1 ? at + 1 : close + CDATA_CLOSE.length
    } else {
      const decoded = reference(content, at)
      out += decoded?.character ?? '&'
      at = decoded?.end ?? at + 1
    }
  }
  return out
}

const isSpace = (text: string, at: number): boolean => at < text.length && /\s/.test(text[at]!)

/**
 * The first `verify="…"` (or single-quoted) attribute in an element's
 * attribute text, decoded; undefined when there is none. A `verify` that
 * follows a word character is part of another name.
 */
function verifyAttribute (attributes: string): string | undefined {
  const quoteEnds = { '"': forwardSearch(attributes, '"'), '\'': forwardSearch(attributes, '\'') }
  for (let at = attributes.indexOf('verify'); at !== -1; at = attributes.indexOf('verify', at + 1)) {
    if (at > 0 && isWordChar(attributes, at - 1)) continue
    let i = at + 'verify'.length
    while (isSpace(attributes, i)) i++
    if (attributes[i] !== '=') continue
    i++
    while (isSpace(attributes, i)) i++
    const quote = attributes[i]
    if (quote !== '"' && quote !== '\'') continue
    const end = quoteEnds[quote](i + 1)
    if (end !== -1) return xmlText(attributes.slice(i + 1, end))
  }
  return undefined
}

/**
 * The credential baked in an SVG; undefined when there is none. A compact JWS
 * may also sit in a `verify` attribute (as in 1EdTech's own baked examples).
 */
export function extractFromSvg (svg: string): string | undefined {
  if (svg.length > MAX_SVG_LENGTH) throw new BakingError(`The SVG image is larger than ${MAX_SVG_LENGTH / 1024 / 1024} MiB.`)
  if (rootTag(svg) === undefined) throw new BakingError('The file is not an SVG image (no <svg> element).')
  const baked = bakedElements(svg)
  if (baked.length > 1) throw new BakingError('The SVG image holds more than one baked credential.')
  const [element] = baked
  if (element === undefined) return undefined
  const content = element.content === undefined ? '' : xmlText(element.content).trim()
  if (content !== '') return content
  return verifyAttribute(element.attributes)?.trim()
}
