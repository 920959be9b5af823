import t, { type Test } from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0' }
const TODAY = '2026-05-04'
const pathOf = (url: string): string => new URL(url).pathname

async function setup (t: Test): Promise<{ app: TestApp, achievementId: string, id: string, url: string, jwt: string }> {
  const app = await build(t, { clock: () => new Date(`${TODAY}T10:00:00Z`) })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  return { app, achievementId: achievement.id, id: issued.id, url: issued.url, jwt: issued.jwt }
}

const usage = async (app: TestApp, query: string): Promise<{ totals: Record<string, number>, series: Array<{ day: string, counts: Record<string, number> }>, from: string, to: string }> => {
  const response = await app.app.inject({ method: 'GET', url: `/api/v1/usage?${query}`, headers: app.auth })
  if (response.statusCode !== 200) throw new Error(`usage: ${response.statusCode} ${response.body}`)
  return response.json()
}

const multipartVerify = async (app: TestApp, pasted: string) => {
  const boundary = 'USAGEBOUNDARY'
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${pasted}\r\n--${boundary}--\r\n`
  return await app.app.inject({ method: 'POST', url: '/verify', headers: { ...BROWSER, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
}

t.test('real requests are counted per credential and kind once flushed, without a cookie or the visitor\'s address', async (t) => {
  const { app, achievementId, id, url, jwt } = await setup(t)
  const path = pathOf(url)
  const responses = []

  // Page views: the HTML page counts, the JSON-LD at the same URL and a declared robot do not.
  responses.push(await app.app.inject({ method: 'GET', url: path, headers: BROWSER }))
  responses.push(await app.app.inject({ method: 'GET', url: path, headers: BROWSER }))
  responses.push(await app.app.inject({ method: 'GET', url: path, headers: { accept: 'application/ld+json' } }))
  responses.push(await app.app.inject({ method: 'GET', url: path, headers: { ...BROWSER, 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } }))
  t.match(responses[0]?.headers['content-type'], /^text\/html/)

  // Verifications: the API (document, JWT, link, stored), a baked image, the /verify page.
  const verify = async (payload: unknown) => await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: payload } })
  const issuedDocument = (await app.app.inject({ method: 'GET', url: `${path}/credential.jsonld` })).json()
  const byDocument = await verify(issuedDocument)
  t.equal(byDocument.statusCode, 200, 'the API verified the document')
  responses.push(byDocument, await verify(jwt), await verify(url))
  responses.push(await app.app.inject({ method: 'GET', url: `${path}/verification` }))
  const png = (await app.app.inject({ method: 'GET', url: `${path}/badge.png` })).rawPayload
  const byImage = await app.app.inject({ method: 'POST', url: '/credentials/verify', headers: { 'content-type': 'image/png' }, payload: png })
  t.equal(byImage.statusCode, 200, 'the API verified the baked image')
  const byPage = await multipartVerify(app, url)
  t.equal(byPage.statusCode, 200, 'the /verify page verified the pasted link')
  const boundary = 'USAGEIMAGE'
  const upload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="badge.png"\r\nContent-Type: image/png\r\n\r\n`),
    png,
    Buffer.from(`\r\n--${boundary}--\r\n`)
  ])
  const byPageImage = await app.app.inject({ method: 'POST', url: '/verify', headers: { ...BROWSER, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: upload })
  t.equal(byPageImage.statusCode, 200, 'the /verify page verified the uploaded badge image')
  const unreadable = await multipartVerify(app, '')
  t.equal(unreadable.statusCode, 400, 'an empty form is not a verification')
  responses.push(byImage, byPage, byPageImage, unreadable)

  // Downloads: JSON-LD (one more above), JWT, PDF, image (one more above); preview.png is not a download.
  for (const file of ['credential.jwt', 'certificate.pdf', 'badge.svg', 'preview.png']) {
    const response = await app.app.inject({ method: 'GET', url: `${path}/${file}`, headers: BROWSER })
    t.equal(response.statusCode, 200, file)
    responses.push(response)
  }

  // LinkedIn: the page's link is the counted redirect, which goes on to LinkedIn's filled-in form.
  const page = responses[0]?.body ?? ''
  t.match(page, `${path}/share/linkedin">Add to LinkedIn profile`, 'the page carries the counted link')
  const click = await app.app.inject({ method: 'GET', url: `${path}/share/linkedin`, headers: BROWSER })
  t.equal(click.statusCode, 303)
  t.match(click.headers.location, /^https:\/\/www\.linkedin\.com\/profile\/add\?startTask=CERTIFICATION_NAME&name=CMA%20\(AAMA\)/, 'LinkedIn\'s add-to-profile form')
  t.match(click.headers.location, `&certId=${path.split('/').pop() ?? ''}`, 'for this credential')
  responses.push(click)

  // Not counted: unknown credentials, failed requests.
  responses.push(await app.app.inject({ method: 'GET', url: '/credentials/AAAAAAAAAAAAAAAA', headers: BROWSER }))
  responses.push(await app.app.inject({ method: 'GET', url: '/credentials/AAAAAAAAAAAAAAAA/share/linkedin', headers: BROWSER }))
  responses.push(await verify(`${app.config.publicBaseUrl}/credentials/AAAAAAAAAAAAAAAA`))

  for (const response of responses) t.equal(response.headers['set-cookie'], undefined, `no cookie on ${response.statusCode} ${String(response.headers['content-type'])}`)

  const answer = await usage(app, `credentialId=${id}&days=7`)
  t.same(answer.totals, {
    page_view: 2,
    verification_api: 4,
    verification_page: 1,
    verification_image: 2,
    linkedin_click: 1,
    download_json: 1,
    download_jwt: 1,
    download_pdf: 1,
    download_image: 2
  })
  t.equal(answer.series.length, 7, 'a week, every day')
  t.equal(answer.to, TODAY)
  t.equal(answer.series.at(-1)?.counts.page_view, 2, 'counted today')
  t.equal(answer.series[0]?.counts.page_view, 0, 'zeros on days without requests')

  const byAchievement = await usage(app, `achievementId=${achievementId}`)
  t.equal(byAchievement.totals.page_view, 2, 'the achievement sums its badges')
  t.equal(byAchievement.series.length, 30, 'thirty days by default')

  // What the table holds: counts, never who asked.
  const columns = await app.sql<Array<{ column_name: string }>>`select column_name from information_schema.columns where table_name = 'usage_counts' order by ordinal_position`
  t.same(columns.map((c) => c.column_name), ['credential_id', 'achievement_id', 'day', 'kind', 'count'])
  const rows = await app.sql`select * from usage_counts`
  t.ok(rows.every((row) => row.credential_id === id && row.achievement_id === achievementId), 'only the known credential, with its achievement')
  t.notMatch(JSON.stringify(rows), /127\.0\.0\.1|Mozilla/, 'no address or user agent')
})

t.test('counts are added to what is stored, and written when the app closes', async (t) => {
  const { app, id, url } = await setup(t)
  await app.app.inject({ method: 'GET', url: pathOf(url), headers: BROWSER })
  t.equal((await usage(app, `credentialId=${id}`)).totals.page_view, 1)
  await app.app.inject({ method: 'GET', url: pathOf(url), headers: BROWSER })
  await app.app.inject({ method: 'GET', url: `${pathOf(url)}/credential.jsonld` })
  t.equal((await usage(app, `credentialId=${id}`)).totals.page_view, 2, 'one row per day and kind, added to')
  await app.app.inject({ method: 'GET', url: pathOf(url), headers: BROWSER })
  await app.app.close()
  const [row] = await app.sql<Array<{ count: string }>>`select count::text from usage_counts where credential_id = ${id} and kind = 'page_view'`
  t.equal(row?.count, '3', 'the last view was written on close')
})

t.test('the staff usage API needs credentials:read and checks its period', async (t) => {
  const { app } = await setup(t)
  const anonymous = await app.app.inject({ method: 'GET', url: '/api/v1/usage' })
  t.equal(anonymous.statusCode, 401)
  const backwards = await app.app.inject({ method: 'GET', url: '/api/v1/usage?from=2026-05-04&to=2026-05-01', headers: app.auth })
  t.equal(backwards.statusCode, 400)
  t.equal(backwards.json().type, 'urn:tessera:problem:validation_failed')
  t.match(backwards.json().detail, /"from" must be a day on or before "to"/)
  const period = await usage(app, 'from=2026-05-01&to=2026-05-03')
  t.same(period.series.map((d) => d.day), ['2026-05-01', '2026-05-02', '2026-05-03'])
  t.equal(period.totals.page_view, 0)
})
