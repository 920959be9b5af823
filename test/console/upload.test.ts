import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { withAchievementColumn } from '../../src/channels/console/upload.js'
import { itemsFromCsv } from '../../src/capabilities/credentials/issue/batch.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from '../helpers/build-app.js'
import { consoleCsrf, consoleStaff } from '../helpers/console.js'
import type { CookieJar } from '../helpers/portal.js'

/**
 * The console's CSV upload: a preview of every row with its problems that
 * issues nothing, then the confirmed CSV issued through the batch path of
 * the staff API, only its good rows, audited with the staff user; a viewer
 * is refused every step.
 */

const NOW = new Date('2026-12-04T12:00:00Z')

/** A multipart/form-data post as a browser sends the upload forms, with the jar's cookies. */
async function postMultipart (app: TestApp, jar: CookieJar, url: string, fields: Record<string, string>, file?: { name: string, filename: string, content: string }): Promise<LightMyRequestResponse> {
  const boundary = '----tessera-test-boundary'
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
  if (file !== undefined) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`)
  const payload = `${parts.join('')}--${boundary}--\r\n`
  return jar.take(await app.app.inject({ method: 'POST', url, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...jar.header() }, payload }))
}

/** The value of the preview's hidden csv field, as the browser would send it back. */
function hiddenCsv (html: string): string {
  const match = /<input type="hidden" name="csv" value="([^"]*)">/.exec(html)
  if (match?.[1] === undefined) throw new Error('no hidden csv field')
  return match[1].replace(/&quot;/g, '"').replace(/&#39;/g, '\'').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

t.test('the preview lists every row with the bad ones\' reasons and issues nothing; confirming issues only the good rows', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const { id: achievementId } = await createAchievement(app, CMA_ACHIEVEMENT)
  const held = await issue(app, { achievementId, recipient: { name: 'Cy Held', email: 'cy@example.org' } })
  const staff = await consoleStaff(app, 'registrar')

  const form = await staff.page('/console/upload')
  t.equal(form.statusCode, 200)
  t.match(form.body, 'enctype="multipart/form-data"')
  t.match(form.body, `<option value="${achievementId}">CMA (AAMA)</option>`)

  const csv = [
    'name,email,validFrom',
    'Ana Ruiz,ana@example.org,2026-01-15',
    'Bad Email,not-an-email,',
    'Ana Again,ANA@example.org,',
    'Cy Held,cy@example.org,',
    '"Bo ""Beau"" Chan",bo@example.org,'
  ].join('\n')
  const credentialsBefore = (await app.sql`select 1 from credentials`).length
  const preview = await staff.submit('/console/upload', '/console/upload/preview', { achievementId, csv })
  t.equal(preview.statusCode, 200, preview.body)
  t.match(preview.body, '<strong>2</strong> of 5 rows can be issued; <strong>3</strong> will not be')
  for (const text of ['Ana Ruiz', '15 January 2026', '15 January 2031', 'Bo &quot;Beau&quot; Chan']) t.match(preview.body, text)
  t.match(preview.body, /<td>3<\/td>\s*<td>Bad Email<\/td>[\s\S]*?Not issued:<\/strong> &quot;email&quot; must/, 'the bad email is named on its row')
  t.match(preview.body, /<td>4<\/td>\s*<td>Ana Again<\/td>[\s\S]*?The same holder as row 2/, 'a holder twice in the file')
  t.match(preview.body, new RegExp(`<td>5</td>\\s*<td>Cy Held</td>[\\s\\S]*?cy@example.org already holds a current &quot;CMA \\(AAMA\\)&quot; credential: ${held.url}`), 'a holder who already has the badge')
  t.match(preview.body, 'Issue 2 badges')
  t.equal((await app.sql`select 1 from credentials`).length, credentialsBefore, 'the preview issues nothing')
  t.equal((await app.sql`select 1 from audit_events where actor = ${`staff:${staff.user.id}`} and action = 'credential.issued'`).length, 0)

  const confirmed = await postMultipart(app, staff.jar, '/console/upload/issue', { _csrf: consoleCsrf(preview.body), csv: hiddenCsv(preview.body), notify: 'yes' })
  t.equal(confirmed.statusCode, 200, confirmed.body)
  t.match(confirmed.body, '<strong>2</strong> issued, <strong>3</strong> not issued. Each holder is emailed the link to their badge.')
  t.match(confirmed.body, /<td>3<\/td>\s*<td>Bad Email<\/td>[\s\S]*?Not issued:<\/strong> &quot;email&quot; must/)
  t.match(confirmed.body, /<td>5<\/td>\s*<td>Cy Held<\/td>[\s\S]*?already holds a current/)
  const issued = await app.sql<Array<{ id: string, name: string, email: string, validFrom: Date }>>`
    select c.id, c.recipient_name as name, c.recipient_email as email, v.valid_from as "validFrom"
    from credentials c join credential_versions v on v.credential_id = c.id
    where c.issued_by = ${`staff:${staff.user.id}`} order by c.recipient_email`
  t.same(issued.map((c) => [c.name, c.email]), [['Ana Ruiz', 'ana@example.org'], ['Bo "Beau" Chan', 'bo@example.org']], 'only the good rows are issued, the first of the repeated holder')
  t.equal(issued[0]?.validFrom.toISOString(), '2026-01-15T00:00:00.000Z', 'a row\'s own dates are used')
  for (const c of issued) t.match(confirmed.body, `/console/credentials/${c.id}`)
  const audit = await app.sql<Array<{ subjectId: string }>>`select subject_id as "subjectId" from audit_events where actor = ${`staff:${staff.user.id}`} and action = 'credential.issued' order by subject_id`
  t.same(audit.map((a) => a.subjectId), issued.map((c) => c.id).sort(), 'each issue is audited with the staff user')
  const events = await app.sql<Array<{ notify: boolean }>>`select notify_holder as notify from events where credential_id = any(${issued.map((c) => c.id)})`
  t.same(events.map((e) => e.notify), [true, true], 'an event that emails the holder for each issued badge (notify was checked)')
})

t.test('a file in the API\'s columns: an unknown achievement is that row\'s problem; a file that cannot be read is the form again', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const { id: achievementId } = await createAchievement(app, CMA_ACHIEVEMENT)
  const staff = await consoleStaff(app, 'registrar')
  const page = await staff.page('/console/upload')
  const file = `achievementId,name,email\r\n${achievementId},Dee Fox,dee@example.org\r\nNoSuchAchievemnt,Eve Gray,eve@example.org\r\n`
  const preview = await postMultipart(app, staff.jar, '/console/upload/preview', { _csrf: consoleCsrf(page.body), achievementId: '', csv: '' }, { name: 'file', filename: 'cohort.csv', content: file })
  t.equal(preview.statusCode, 200, preview.body)
  t.match(preview.body, 'From the file cohort.csv: <strong>1</strong> of 2 rows can be issued')
  t.match(preview.body, /<td>3<\/td>\s*<td>Eve Gray<\/td>[\s\S]*?&quot;achievementId&quot; names no achievement: &quot;NoSuchAchievemnt&quot;/)

  const both = await postMultipart(app, staff.jar, '/console/upload/preview', { _csrf: consoleCsrf(page.body), achievementId, csv: '' }, { name: 'file', filename: 'cohort.csv', content: file })
  t.equal(both.statusCode, 422, 'an achievement chosen and an achievementId column: which one is meant?')
  t.match(both.body, 'The file has an achievementId column')

  const unreadable = await staff.submit('/console/upload', '/console/upload/preview', { achievementId: '', csv: 'name,email\nAna,ana@example.org' })
  t.equal(unreadable.statusCode, 422)
  t.match(unreadable.body, 'The CSV header lacks the columns &quot;achievementId&quot;')
  t.match(unreadable.body, 'Ana,ana@example.org', 'the pasted rows are kept in the form')
  const empty = await staff.submit('/console/upload', '/console/upload/preview', { achievementId, csv: '  ' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Choose a CSV file or paste the rows.')

  const noToken = await postMultipart(app, staff.jar, '/console/upload/issue', { csv: file })
  t.equal(noToken.statusCode, 403, 'a multipart post without the CSRF token')
  t.match(noToken.body, 'This form has expired')
  t.equal((await app.sql`select 1 from credentials`).length, 0)
})

t.test('the chosen achievement becomes a first column; rows keep their numbers through quoted line breaks and blank lines', async (t) => {
  const csv = '\uFEFFname,email\n"Ann\nBee",ann@example.org\n\nBob,bob@example.org\n'
  const withColumn = withAchievementColumn(csv, 'Jq3xw9Lk2PzR7tYb')
  const { items, rows } = itemsFromCsv(withColumn)
  t.same(items, [
    { achievementId: 'Jq3xw9Lk2PzR7tYb', recipient: { name: 'Ann\nBee', email: 'ann@example.org' } },
    { achievementId: 'Jq3xw9Lk2PzR7tYb', recipient: { name: 'Bob', email: 'bob@example.org' } }
  ])
  t.same(rows, itemsFromCsv(csv.replace('name,email', 'achievementId,name,email').replace(/\n(?=["B])/g, '\nJq3xw9Lk2PzR7tYb,')).rows, 'the same row numbers as a file that had the column')
  t.same(rows.map((r) => r.row), [2, 4])
  t.throws(() => withAchievementColumn('achievementId,name,email\nx,y,z\n', 'Jq3xw9Lk2PzR7tYb'), { code: 'validation_failed' })
})

t.test('a viewer cannot see the upload, preview or issue', async (t) => {
  const app = await build(t, { clock: () => NOW })
  const { id: achievementId } = await createAchievement(app, CMA_ACHIEVEMENT)
  const viewer = await consoleStaff(app, 'viewer')
  t.notMatch((await viewer.page('/console')).body, 'href="/console/upload"', 'no CSV upload in the navigation')
  const form = await viewer.page('/console/upload')
  t.equal(form.statusCode, 403)
  t.match(form.body, 'needs &quot;credentials:issue&quot;')
  const csv = `achievementId,name,email\n${achievementId},Ana Ruiz,ana@example.org\n`
  const page = await viewer.page('/console')
  const preview = await viewer.submit('/console', '/console/upload/preview', { csv })
  t.equal(preview.statusCode, 403, 'POST /console/upload/preview (urlencoded)')
  const previewFile = await postMultipart(app, viewer.jar, '/console/upload/preview', { _csrf: consoleCsrf(page.body) }, { name: 'file', filename: 'a.csv', content: csv })
  t.equal(previewFile.statusCode, 403, 'POST /console/upload/preview (multipart)')
  const issued = await postMultipart(app, viewer.jar, '/console/upload/issue', { _csrf: consoleCsrf(page.body), csv, notify: 'yes' })
  t.equal(issued.statusCode, 403, 'POST /console/upload/issue')
  t.match(issued.body, 'needs &quot;credentials:issue&quot;')
  t.equal((await app.sql`select 1 from credentials`).length, 0, 'nothing was issued')
})
