/**
 * Picks the best of `offered` media types for an Accept header (RFC 9110
 * section 12.5.1): highest q wins, then the most specific range, then the
 * order of `offered`. No Accept header means the first offer. Returns
 * undefined when nothing offered is acceptable.
 */
export function negotiate (accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0]
  const ranges = accept.split(',').map((part, order) => {
    const [range = '', ...params] = part.trim().split(';')
    let q = 1
    for (const param of params) {
      const [key, value] = param.trim().split('=')
      if (key?.toLowerCase() === 'q' && value !== undefined) q = Number(value)
    }
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/')
    return { type, subtype, q: Number.isFinite(q) ? q : 0, order }
  })
  let best: { offer: string, q: number, specificity: number, index: number } | undefined
  offered.forEach((offer, index) => {
    const [type, subtype] = offer.split('/')
    let match: { q: number, specificity: number } | undefined
    for (const r of ranges) {
      const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1
      if (specificity < 0) continue
      if (match === undefined || specificity > match.specificity) match = { q: r.q, specificity }
    }
    if (match === undefined || match.q <= 0) return
    if (best === undefined || match.q > best.q || (match.q === best.q && match.specificity > best.specificity)) {
      best = { offer, ...match, index }
    }
  })
  return best?.offer
}
