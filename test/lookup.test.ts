import t, { type Test } from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { lastNameMatches } from '../src/capabilities/lookup/names.js'

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }
const JSON_ACCEPT = { accept: 'application/json' }

async function setup (t: Test, env: Record<string, string> = {}): Promise<{ app: TestApp, setNow: (iso: string) => void, issueTo: (name: string) => Promise<{ id: string, url: string }> }> {
  let now = new Date('2026-05-04T10:00:00Z')
  const app = await build(t, { clock: () => now, env })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  return {
    app,
    setNow: (iso) => { now = new Date(iso) },
    issueTo: async (name) => await issue(app, { achievementId: achievement.id, recipient: { name, email: `${name.length}@example.org` } })
  }
}

const lookUp = async (app: TestApp, form: Record<string, string>, headers: Record<string, string> = BROWSER) =>
  await app.app.inject({ method: 'POST', url: '/lookup', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() })
const lookUpJson = async (app: TestApp, body: Record<string, string>) =>
  await app.app.inject({ method: 'POST', url: '/lookup', headers: JSON_ACCEPT, payload: body })
const banner = (html: string): string => /<section class="banner[^"]*"[^>]*>[\s\S]*?<\/section>/.exec(html)?.[0] ?? ''

t.test('an exact number and last name answer the status and the link, as a page and as JSON', async (t) => {
  const { app, issueTo } = await setup(t)
  const jane = await issueTo('Jane Q. Assistant')
  const zoe = await issueTo('Zoë Ångström')

  const form = await app.app.inject({ method: 'GET', url: '/lookup', headers: BROWSER })
  t.equal(form.statusCode, 200)
  t.match(form.body, /<label for="lookup-number">Certificate number<\/label>/)
  t.match(form.body, /<label for="lookup-last-name">Holder's last name<\/label>/)

  const page = await lookUp(app, { number: jane.id, lastName: 'Assistant' })
  t.equal(page.statusCode, 200)
  t.match(banner(page.body), /Valid/)
  t.match(page.body, new RegExp(`href="/credentials/${jane.id}"`), 'the link to the credential')
  t.match(page.body, /CMA \(AAMA\)/)

  const json = await lookUpJson(app, { number: jane.url, lastName: 'assistant' })
  t.equal(json.statusCode, 200, 'the URL as the number, the name in lower case')
  t.match(json.headers['content-type'], /^application\/json/)
  t.same(json.json(), { found: true, status: 'valid', currentStatus: 'valid', url: jane.url, achievementName: 'CMA (AAMA)', validUntil: json.json().validUntil, askedVersion: null, currentVersion: 1 })

  t.equal((await lookUpJson(app, { number: zoe.id, lastName: 'ANGSTROM' })).statusCode, 200, 'accents and case do not matter')
  t.equal((await lookUpJson(app, { number: zoe.id, lastName: 'Zoë' })).statusCode, 404, 'a first name is not the last name')
  t.equal((await lookUpJson(app, { number: zoe.id, lastName: 'Zoë Ångström' })).statusCode, 404, 'nor is the whole name')
  t.equal((await lookUpJson(app, { number: zoe.id.slice(0, -1), lastName: 'Ångström' })).statusCode, 404, 'no partial numbers')
  t.equal((await lookUpJson(app, { number: `${zoe.id.slice(0, -1)}%`, lastName: 'Ångström' })).statusCode, 404, 'no wildcards')
})

t.test('a wrong last name answers exactly what an unknown number answers', async (t) => {
  const { app, issueTo } = await setup(t)
  const jane = await issueTo('Jane Q. Assistant')
  const wrongName = await lookUpJson(app, { number: jane.id, lastName: 'Smith' })
  const unknown = await lookUpJson(app, { number: 'AAAAAAAAAAAAAAAA', lastName: 'Assistant' })
  t.equal(wrongName.statusCode, 404)
  t.equal(unknown.statusCode, 404)
  const strip = (body: Record<string, unknown>): Record<string, unknown> => ({ ...body, instance: undefined, requestId: undefined })
  t.same(strip(wrongName.json()), strip(unknown.json()))
  t.equal(wrongName.json().type, 'urn:tessera:problem:not_found')
  t.equal(wrongName.json().detail, 'No certification matches this number and last name.')

  const wrongPage = await lookUp(app, { number: jane.id, lastName: 'Smith' })
  const unknownPage = await lookUp(app, { number: 'AAAAAAAAAAAAAAAA', lastName: 'Assistant' })
  t.equal(wrongPage.statusCode, 404)
  t.equal(unknownPage.statusCode, 404)
  t.equal(banner(wrongPage.body), banner(unknownPage.body), 'the same "no match"')
  t.match(banner(wrongPage.body), /No certification matches this number and last name/)
})

t.test('a credential its holder made private is not found', async (t) => {
  const { app, issueTo } = await setup(t)
  const jane = await issueTo('Jane Q. Assistant')
  await app.sql`update credentials set hidden_by_holder_at = now() where id = ${jane.id}`
  const hidden = await lookUpJson(app, { number: jane.id, lastName: 'Assistant' })
  t.equal(hidden.statusCode, 404)
  t.equal(hidden.json().detail, 'No certification matches this number and last name.')
})

t.test('revoked, expired and superseded credentials say so', async (t) => {
  const { app, issueTo, setNow } = await setup(t)
  const revoked = await issueTo('Rita Revoked')
  const revoking = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${revoked.id}/revoke`, headers: app.auth, payload: { reason: 'Issued in error' } })
  t.equal(revoking.statusCode, 200)
  const revokedPage = await lookUp(app, { number: revoked.id, lastName: 'Revoked' })
  t.equal(revokedPage.statusCode, 200)
  t.match(banner(revokedPage.body), /banner--revoked[\s\S]*Revoked/)
  t.equal((await lookUpJson(app, { number: revoked.id, lastName: 'Revoked' })).json().status, 'revoked')

  const corrected = await issueTo('Sam Lee')
  const correcting = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${corrected.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Sam J. Leigh' } } })
  t.equal(correcting.statusCode, 201, 'corrected: version 2')
  const old = await lookUpJson(app, { number: `${corrected.url}/versions/1`, lastName: 'Leigh' })
  t.match(old.json(), { status: 'superseded', currentStatus: 'valid', askedVersion: 1, currentVersion: 2, url: corrected.url }, 'the old version leads to the current one')
  t.equal((await lookUpJson(app, { number: corrected.id, lastName: 'Lee' })).statusCode, 404, 'the name as it is now, not as it was')

  setNow('2031-06-01T00:00:00Z')
  const expired = await lookUpJson(app, { number: corrected.id, lastName: 'Leigh' })
  t.equal(expired.json().status, 'expired')
})

t.test('a form without a number or a last name is a 400 saying which', async (t) => {
  const { app } = await setup(t)
  const noName = await lookUp(app, { number: 'AAAAAAAAAAAAAAAA', lastName: '  ' })
  t.equal(noName.statusCode, 400)
  t.match(noName.headers['content-type'], /^text\/html/)
  t.match(noName.body, /Enter the holder&#39;s last name: both it and the certificate number are needed\./)
  t.match(noName.body, /id="lookup-last-name"[^>]*aria-invalid="true"/)
  t.match(noName.body, /value="AAAAAAAAAAAAAAAA"/, 'what was typed is kept')
  const nothing = await lookUp(app, {})
  t.equal(nothing.statusCode, 400)
  t.match(nothing.body, /Enter the certificate number and the holder&#39;s last name: both are needed\./)
  const json = await lookUpJson(app, { lastName: 'Assistant' })
  t.equal(json.statusCode, 400)
  t.equal(json.json().type, 'urn:tessera:problem:validation_failed')
  t.match(json.json().detail, /^"number" is required\./)
})

t.test('lookups are limited per address', async (t) => {
  const { app } = await setup(t, { RATE_LIMIT_FORMS_PER_MINUTE: '3' })
  for (let i = 0; i < 3; i++) t.equal((await lookUpJson(app, { number: 'AAAAAAAAAAAAAAAA', lastName: 'X' })).statusCode, 404)
  const limited = await lookUpJson(app, { number: 'AAAAAAAAAAAAAAAA', lastName: 'X' })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().type, 'urn:tessera:problem:too_many_requests')
  const other = await app.app.inject({ method: 'POST', url: '/lookup', remoteAddress: '192.0.2.7', headers: JSON_ACCEPT, payload: { number: 'AAAAAAAAAAAAAAAA', lastName: 'X' } })
  t.equal(other.statusCode, 404, 'another address is not limited')
})

t.test('a last name is the holder\'s last word or words, compared without case, accents or punctuation', async (t) => {
  t.ok(lastNameMatches('Siobhán O\'Brien', 'obrien'))
  t.ok(lastNameMatches('Anna van der Berg', 'Van der Berg'))
  t.ok(lastNameMatches('Anna van der Berg', 'berg'))
  t.ok(lastNameMatches('José García-López', 'GARCIA-LOPEZ'))
  t.notOk(lastNameMatches('José García-López', 'García'), 'a part of a hyphenated name is not the name')
  t.notOk(lastNameMatches('Anna Berg', 'Anna Berg'))
  t.notOk(lastNameMatches('Anna Berg', ''))
  t.ok(lastNameMatches('Madonna', 'madonna'), 'a one-word name is its own last name')
})

t.test('the body\'s certificate number, when staff recorded one, finds the credential exactly (any case)', async (t) => {
  const { app } = await setup(t)
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, name: 'CMA (AAMA) renewal' })
  const jane = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, certificateNumber: 'CMA-000123' })
  const found = await lookUpJson(app, { number: 'cma-000123', lastName: 'Assistant' })
  t.equal(found.statusCode, 200)
  t.equal(found.json().url, jane.url)
  t.equal((await lookUpJson(app, { number: 'CMA-00012', lastName: 'Assistant' })).statusCode, 404, 'no partial numbers')
  t.equal((await lookUpJson(app, { number: 'CMA-000123', lastName: 'Other' })).statusCode, 404, 'the last name must match too')
  t.equal((await lookUpJson(app, { number: jane.id, lastName: 'Assistant' })).statusCode, 200, 'the credential id still works')
})
