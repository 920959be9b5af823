import t from 'tap'
import { usageChartSvg } from '../../src/capabilities/usage/chart.js'
import { classify } from '../../src/capabilities/usage/classify.js'

t.test('the chart is an accessible SVG with a bar per day', async (t) => {
  const svg = usageChartSvg([{ label: '2026-05-01', value: 3 }, { label: '2026-05-02', value: 0 }, { label: '2026-05-03', value: 6 }], { title: 'Page views <all>' })
  t.match(svg, /^<svg [^>]*role="img"[^>]*aria-label="Page views &lt;all&gt;: 9 in total from 2026-05-01 to 2026-05-03, at most 6 on one day"/)
  t.match(svg, /<title>Page views &lt;all&gt;: 9 in total/)
  t.equal(svg.match(/<rect /g)?.length, 3, 'one bar per day')
  t.match(svg, /<rect [^>]*height="140"><title>2026-05-03: 6<\/title>/, 'the largest bar fills the plot')
  t.match(usageChartSvg([]), /aria-label="Usage per day: no data"/)
})

t.test('only the holder page as HTML counts as a page view, and robots do not count', async (t) => {
  const base = { method: 'GET', route: '/credentials/:id', status: 200, robots: undefined, userAgent: 'Mozilla/5.0', params: { id: 'abc' }, verified: undefined }
  t.same(classify({ ...base, contentType: 'text/html; charset=utf-8' }, 'https://b'), { credentialId: 'abc', kind: 'page_view' })
  t.equal(classify({ ...base, contentType: 'application/ld+json' }, 'https://b'), undefined)
  t.equal(classify({ ...base, contentType: 'text/html', robots: 'noindex' }, 'https://b'), undefined, 'the "private" page is not the credential\'s')
  t.equal(classify({ ...base, contentType: 'text/html', userAgent: 'LinkedInBot/1.0' }, 'https://b'), undefined)
  t.equal(classify({ ...base, contentType: 'text/html', status: 404 }, 'https://b'), undefined)
})
