import t from 'tap'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'

const fixed = new Date('2026-12-04T10:00:00Z')
const clock = (): Date => fixed

async function batch (app: TestApp, payload: string | object): Promise<{ statusCode: number, body: any }> {
  const headers = typeof payload === 'string' ? { ...app.auth, 'content-type': 'text/csv' } : app.auth
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers, payload })
  return { statusCode: response.statusCode, body: response.json() }
}

async function refused (app: TestApp, url: string, payload: unknown): Promise<string> {
  const response = await app.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...app.auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  if (response.statusCode !== 400) throw new Error(`expected a 400 from ${url}, got ${response.statusCode} ${response.body}`)
  t.equal(response.json().type, 'urn:tessera:problem:validation_failed')
  return response.json().detail
}

const US_DATE = ' must be a date like 2026-12-04 or a date-time like 2026-12-04T09:00:00Z; dates like 12/04/2026 are refused as ambiguous (4 December or 12 April?).'

t.test('a CSV row\'s problem names the row as a spreadsheet numbers it (header = row 1) and the column, not items[n]', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  // Row 3 is a blank line (a spreadsheet shows an empty row); row 5's name
  // holds a line break, so row 6 starts on line 7 of the file.
  const csv = 'achievementId,name,email\n' +
    `${cma.id},Ana Ruiz,ana@example.com\n` +
    '\n' +
    `${cma.id},Bo Li,bo@example\n` +
    `${cma.id},"Cy\nDoe",cy@example.com\n` +
    `${cma.id},,nameless@example.com\n` +
    ',Di Eng,di@example.com\n'
  const { statusCode, body } = await batch(app, csv)
  t.equal(statusCode, 207)
  t.same(body.summary, { total: 5, created: 2, failed: 3 })
  t.same(body.results.map((r: { detail?: string }) => r.detail), [
    undefined,
    'Row 4: "email" must be an email address.',
    undefined,
    'Row 6 (line 7 of the file): "name" is empty; every row needs one.',
    'Row 7 (line 8 of the file): "achievementId" is empty; every row needs one.'
  ])
  t.equal(body.results[2].credential.credentialSubject.name, 'Cy\nDoe', 'the multi-line row was issued')
  t.equal(body.results[1].errors[0].in, 'items[1]', 'errors[].in keeps the documented items[n] for programs')
})

t.test('a JSON batch item\'s problem names the item by position and by its index in "items"', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  const { body } = await batch(app, {
    items: [
      { achievementId: cma.id, recipient: { name: 'One', email: 'one@example.com' } },
      { achievementId: cma.id, recipient: { name: 'Two', email: 'not-an-email' } },
      'not an object',
      { recipient: { name: 'Four', email: 'four@example.com' } }
    ]
  })
  t.same(body.results.map((r: { detail?: string }) => r.detail), [
    undefined,
    'Item 2 (items[1]): "recipient.email" must be an email address.',
    'Item 3 (items[2]): The item must be an object.',
    'Item 4 (items[3]): The item must have the property "achievementId".'
  ])
})

t.test('a date alone is accepted: validFrom and awardedDate from the start of that day, validUntil through its end (UTC), in JSON and CSV alike', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane', email: 'jane@example.org' }, validFrom: '2026-12-04', validUntil: '2031-12-03', awardedDate: '2026-11-30' })
  t.equal(issued.credential.validFrom, '2026-12-04T00:00:00Z')
  t.equal(issued.credential.validUntil, '2031-12-03T23:59:59Z', 'valid through the whole last day')
  t.equal(issued.credential.awardedDate, '2026-11-30T00:00:00Z')
  const verified = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(verified.json().status, 'valid', 'the credential verifies')

  const fromMonths = await issue(app, { achievementId: cma.id, recipient: { name: 'Kim', email: 'kim@example.org' }, validFrom: '2026-12-01' })
  t.equal(fromMonths.credential.validUntil, '2031-12-01T00:00:00Z', 'without validUntil, the achievement\'s 60 months run from the start of validFrom\'s day')

  const exact = await issue(app, { achievementId: cma.id, recipient: { name: 'Lee', email: 'lee@example.org' }, validFrom: '2026-12-04T09:30:00+01:00' })
  t.equal(exact.credential.validFrom, '2026-12-04T08:30:00Z', 'a date-time is taken as written')

  const csv = 'achievementId,name,email,validFrom,validUntil\n' +
    `${cma.id},Ana Ruiz,ana@example.com,2026-12-04,2027-06-30\n` +
    `${cma.id},Bo Li,bo@example.com,12/04/2026,\n` +
    `${cma.id},Cy Doe,cy@example.com,2026-12-04,31/12/2027\n`
  const { body } = await batch(app, csv)
  t.equal(body.results[0].credential.validFrom, '2026-12-04T00:00:00Z')
  t.equal(body.results[0].credential.validUntil, '2027-06-30T23:59:59Z')
  t.equal(body.results[1].detail, `Row 3: "validFrom"${US_DATE}`)
  t.equal(body.results[2].detail, `Row 4: "validUntil"${US_DATE}`)
})

t.test('a day-month date is refused saying what is accepted, in JSON as in CSV; out-of-range dates keep their message', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  const body = (dates: object): object => ({ achievementId: cma.id, recipient: { name: 'Jane', email: 'jane@example.org' }, ...dates })
  t.equal(await refused(app, '/credentials', body({ validFrom: '12/04/2026' })), `"validFrom"${US_DATE}`)
  t.equal(await refused(app, '/credentials', body({ validUntil: '2026-13-01' })), `"validUntil"${US_DATE}`, 'no month 13')
  t.equal(await refused(app, '/credentials', body({ awardedDate: 'yesterday' })), `"awardedDate"${US_DATE}`)
  t.equal(await refused(app, '/credentials', body({ validFrom: '1899-12-31' })), '"validFrom" must be a date between 1900 and 2200.')
  t.equal(await refused(app, '/credentials', body({ validUntil: '2200-01-02T00:00:00Z' })), '"validUntil" must be a date between 1900 and 2200.')
  const { body: answer } = await batch(app, { items: [body({ validFrom: '04/12/2026' })] })
  t.equal(answer.results[0].detail, `Item 1 (items[0]): "validFrom"${US_DATE}`)
})

t.test('recertify: a wrong body is told what is wrong with the method it asked for', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  const { id } = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane', email: 'jane@example.org' } })
  const url = `/credentials/${id}/recertify`
  const cases: Array<[unknown, string]> = [
    [{ method: 'exam', points: { total: 62, approved: 31 } }, '"points" is only used with "method": "continuing-education".'],
    [{ method: 'continuing-education' }, 'The request body must have the property "points".'],
    [{ method: 'continuing-education', points: { total: 62 } }, '"points" must have the property "approved".'],
    [{ method: 'continuing-education', points: { total: -1, approved: 0 } }, '"points.total" must be at least 0.'],
    [{ method: 'continuing-education', points: { total: 62, approved: 31 }, extra: 1 }, 'The request body must not have the property "extra".'],
    [{ method: 'ce' }, '"method" must be one of "exam", "continuing-education".'],
    [{ method: 'exam', note: '' }, '"note" must not be empty.'],
    [{}, 'The request body must have the property "method".'],
    [[], 'The request body must be an object.']
  ]
  for (const [payload, detail] of cases) t.equal(await refused(app, url, payload), detail, JSON.stringify(payload))
})

t.test('other staff routes: messages in the caller\'s terms, not ajv\'s', async (t) => {
  const app = await build(t, { clock })
  const cma = await createAchievement(app)
  const { id } = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane', email: 'jane@example.org' } })
  const achievement = { name: 'n', description: 'd', criteria: { narrative: 'x' } }
  const cases: Array<[string, unknown, string]> = [
    ['/credentials', { achievementId: cma.id, recipient: { name: 'X', email: 'nope' } }, '"recipient.email" must be an email address.'],
    ['/credentials', { achievementId: cma.id, recipient: { name: 'X', email: 'x@example.org' }, validUntil: 5 }, '"validUntil" must be a string.'],
    [`/credentials/${id}/reissue`, { reason: 'typo', recipient: { name: 'Y' } }, '"reason" must be "correction".'],
    [`/credentials/${id}/reissue`, { reason: 'correction', recipient: {} }, '"recipient" must not be empty.'],
    [`/credentials/${id}/revoke`, { reason: '   ' }, '"reason" must not be blank.'],
    ['/achievements', { ...achievement, validityMonths: 'five' }, '"validityMonths" must be an integer.'],
    ['/achievements', { ...achievement, achievementType: 'Cert' }, '"achievementType" must be one of "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification", "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License", "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma", or match the pattern ^ext:[A-Za-z0-9._-]+$.'],
    ['/credentials/batch', { items: [] }, '"items" must hold at least 1 item.'],
    ['/credentials/batch', [], 'The request body must be an object or a string.']
  ]
  for (const [url, payload, detail] of cases) t.equal(await refused(app, url, payload), detail, `${url} ${JSON.stringify(payload)}`)
  const recertification = await app.app.inject({ method: 'PUT', url: `/api/v1/achievements/${cma.id}/recertification`, headers: app.auth, payload: { recertification: { exam: 'yes' } } })
  t.equal(recertification.json().detail, '"recertification.exam" must be true or false.', 'the "or null" branch does not hide the real mistake')
  const list = await app.app.inject({ method: 'GET', url: '/api/v1/credentials?expiresAfter=soon', headers: app.auth })
  t.equal(list.json().detail, '"expiresAfter" must be a date-time like 2026-12-04T09:00:00Z.')
})
