/** One bar of the chart: a label (a day) and a value. */
export interface ChartPoint {
  label: string
  value: number
}

const escapeXml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

/**
 * A small bar chart as an SVG string, drawn on the server (the console's pages
 * run no script). Accessible: role="img" with an aria-label and a <title>
 * summing the series, and a <title> per bar (its day and value) for pointer users.
 * Colours come from the page (currentColor), so it follows the theme.
 */
export function usageChartSvg (series: readonly ChartPoint[], options: { title?: string, width?: number, height?: number } = {}): string {
  const width = options.width ?? 640
  const height = options.height ?? 160
  const title = options.title ?? 'Usage per day'
  const total = series.reduce((sum, p) => sum + p.value, 0)
  const max = Math.max(1, ...series.map((p) => p.value))
  const first = series[0]?.label
  const last = series.at(-1)?.label
  const label = series.length === 0
    ? `${title}: no data`
    : `${title}: ${total} in total from ${first ?? ''} to ${last ?? ''}, at most ${series.reduce((m, p) => Math.max(m, p.value), 0)} on one day`
  const axis = 16
  const plot = height - axis
  const step = series.length === 0 ? width : width / series.length
  const gap = step > 4 ? 1 : 0
  const bars = series.map((p, i) => {
    const h = Math.round((p.value / max) * (plot - 4))
    const x = (i * step).toFixed(2)
    return `<rect x="${x}" y="${plot - h}" width="${Math.max(1, step - gap).toFixed(2)}" height="${h}"><title>${escapeXml(`${p.label}: ${p.value}`)}</title></rect>`
  }).join('')
  const ticks = series.length === 0
    ? ''
    : `<text x="0" y="${height - 3}" font-size="11">${escapeXml(first ?? '')}</text><text x="${width}" y="${height - 3}" font-size="11" text-anchor="end">${escapeXml(last ?? '')}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}">` +
    `<title>${escapeXml(label)}</title>` +
    `<line x1="0" y1="${plot}" x2="${width}" y2="${plot}" stroke="currentColor" stroke-opacity="0.4"/>` +
    `<g fill="currentColor">${bars}</g>` +
    `<g fill="currentColor">${ticks}</g>` +
    '</svg>'
}
