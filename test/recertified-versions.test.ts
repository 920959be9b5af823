import t, { type Test } from 'tap'
import { decodeList, getBit } from '../src/capabilities/status-lists/bitstring.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'

/**
 * A version a recertification replaced is left to expire: its status bit
 * stays clear (every other verifier and wallet keeps calling it what it is, a
 * true statement of its period), while this service's own verifier answers
 * `superseded` and points at the current version. A revocation still sets it.
 */

const CMA_RULES = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

interface Clocked { app: TestApp, setNow: (iso: string) => void }

async function setup (t: Test, start: string): Promise<Clocked> {
  let now = new Date(start)
  const app = await build(t, { clock: () => now, env: { ISSUER_NAME: 'American Association of Medical Assistants' } })
  return { app, setNow: (iso) => { now = new Date(iso) } }
}

const pathOf = (url: string): string => new URL(url).pathname
const post = async (app: TestApp, url: string, payload: unknown) => await app.app.inject({ method: 'POST', url, headers: app.auth, payload: payload as Record<string, unknown> })
const verify = async (app: TestApp, credential: unknown, options?: Record<string, unknown>) =>
  await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential, ...(options !== undefined ? { options } : {}) } })

/** The bit of a credential's status entry, read from the published (signed) status list credential. */
async function publishedBit (app: TestApp, credential: Record<string, any>): Promise<boolean> {
  const entry = credential.credentialStatus as { statusListCredential: string, statusListIndex: string }
  const response = await app.app.inject({ method: 'GET', url: pathOf(entry.statusListCredential) })
  if (response.statusCode !== 200) throw new Error(`status list: ${response.statusCode}`)
  return getBit(decodeList(response.json().credentialSubject.encodedList), Number(entry.statusListIndex))
}

const statusMessage = (result: { checks: Array<{ id: string, message: string }> }): string | undefined => result.checks.find((c) => c.id === 'status')?.message

t.test('a renewed version keeps its bit clear; this service answers superseded from the renewal on; a revocation sets it', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })

  setNow('2026-05-01T12:00:00Z')
  const response = await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'continuing-education', points: { total: 60, approved: 30 } })
  t.equal(response.statusCode, 201, response.body)
  const second = response.json()

  t.equal(await publishedBit(app, first.credential), false, 'version 1\'s bit is clear in the published list: other verifiers do not see "revoked"')
  t.equal(await publishedBit(app, second.credential), false, 'version 2\'s bit is clear')

  for (const input of [first.credential, first.jwt]) {
    const old = await verify(app, input)
    t.equal(old.statusCode, 422)
    const result = old.json()
    t.equal(result.status, 'superseded')
    t.equal(result.revoked, false)
    t.same(result.currentVersion, { url: first.url, version: 2, renewedAt: '2026-05-01T12:00:00Z' }, 'with when it was renewed and where the current version is')
    t.equal(result.notice, `This CMA (AAMA) certification was renewed on 1 May 2026: the current version is at ${first.url}.`)
    t.equal(statusMessage(result), `This version was renewed on 1 May 2026: version 2 is current, valid until 30 June 2031: ${first.url}.`)
  }

  const atRenewal = (await verify(app, first.credential, { at: '2026-05-01T12:00:00Z' })).json()
  t.equal(atRenewal.status, 'superseded', 'from the renewal\'s first second')
  const justBefore = (await verify(app, first.credential, { at: '2026-05-01T11:59:59Z' })).json()
  t.equal(justBefore.status, 'valid', 'a second before the renewal it was the current period')
  t.same(justBefore.currentVersion, { url: first.url, version: 2, renewedAt: '2026-05-01T12:00:00Z' })
  t.match(justBefore.warnings, [/version 2 is current/])
  t.equal((await verify(app, second.credential)).json().status, 'valid', 'the renewal is valid')

  const page = await app.app.inject({ method: 'GET', url: `${pathOf(first.url)}/versions/1`, headers: { accept: BROWSER_ACCEPT } })
  t.equal(page.statusCode, 200)
  t.match(page.body, /banner--superseded/)
  t.match(page.body, /<h2 id="status-heading" class="banner__label">Renewed<\/h2>/)
  t.match(page.body, /<p class="banner__text">This version was replaced on 1 May 2026 by a renewed version\.<\/p>/)
  t.match(page.body, new RegExp(`<a class="banner__link" href="${first.url}">See the current version</a>`))

  setNow('2026-09-01T00:00:00Z')
  const revoked = await post(app, `/api/v1/credentials/${first.id}/revoke`, { reason: 'Withdrawn by the board' })
  t.equal(revoked.statusCode, 200, revoked.body)
  t.equal(await publishedBit(app, first.credential), true, 'a withdrawal revokes every version: version 1\'s bit is set too')
  t.equal(await publishedBit(app, second.credential), true)
  for (const input of [first.credential, second.credential]) {
    const result = (await verify(app, input)).json()
    t.equal(result.status, 'revoked', 'the revocation wins over the renewal')
    t.equal(result.revoked, true)
  }
  const betweenRenewalAndRevocation = (await verify(app, first.credential, { at: '2026-06-01T00:00:00Z' })).json()
  t.equal(betweenRenewalAndRevocation.status, 'superseded', 'asked about a moment after the renewal and before the revocation: renewed then')
  t.equal((await verify(app, first.credential, { at: '2026-04-01T00:00:00Z' })).json().status, 'valid', 'and before both: valid')
})

t.test('a correction after a renewal answers with the correction\'s words for every version it replaced', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruis', email: 'ana@example.com' } })
  setNow('2026-05-01T12:00:00Z')
  t.equal((await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })).statusCode, 201)
  setNow('2026-05-10T09:00:00Z')
  const corrected = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Ana Ruiz' } })
  t.equal(corrected.statusCode, 201, corrected.body)

  t.equal(await publishedBit(app, first.credential), true, 'the correction sets the bit of every live version, the renewed one included: its data is wrong')
  const result = (await verify(app, first.credential)).json()
  t.equal(result.status, 'superseded')
  t.same(result.currentVersion, { url: first.url, version: 3, supersededAt: '2026-05-10T09:00:00Z' }, 'no renewedAt: the correction speaks')
  t.equal(result.notice, `This CMA (AAMA) certification was replaced on 10 May 2026 by a corrected version: the current version is at ${first.url}.`)
})

t.test('a version renewed twice over points at the version current now, with its validUntil', async (t) => {
  const { app, setNow } = await setup(t, '2021-06-30T00:00:00Z')
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: CMA_RULES })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } })
  setNow('2026-05-01T12:00:00Z')
  const second = await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })
  t.equal(second.statusCode, 201, second.body)
  setNow('2031-05-01T12:00:00Z')
  const third = await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })
  t.equal(third.statusCode, 201, third.body)

  const one = (await verify(app, first.credential)).json()
  t.same(one.currentVersion, { url: first.url, version: 3, renewedAt: '2026-05-01T12:00:00Z' }, 'version 1 was renewed when version 2 began')
  t.equal(statusMessage(one), `This version was renewed on 1 May 2026: version 3 is current, valid until ${new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.parse(third.json().credential.validUntil))}: ${first.url}.`)
  const two = (await verify(app, second.json().credential)).json()
  t.equal(two.status, 'superseded')
  t.same(two.currentVersion, { url: first.url, version: 3, renewedAt: '2031-05-01T12:00:00Z' })
})
