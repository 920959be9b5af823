import t, { type Test } from 'tap'
import { loadConfig } from '../src/kernel/config.js'
import { resignCredential } from '../src/capabilities/credentials/recertify/reissue-credential.js'
import { checkValidityPeriod } from '../src/capabilities/verification/steps/validity-period.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { assertIndependentlyValid } from './helpers/independent-checks.js'

/**
 * Clock skew: a version is verifiable the moment it is answered, and a
 * validFrom / nbf a little ahead of the verifier's clock is tolerated, while
 * validUntil / exp are exact.
 */

interface Clocked { app: TestApp, setNow: (iso: string) => void, now: () => Date }

async function setup (t: Test, start: string, env: Record<string, string> = {}): Promise<Clocked> {
  let now = new Date(start)
  const app = await build(t, { clock: () => now, env })
  return { app, setNow: (iso) => { now = new Date(iso) }, now: () => now }
}

const post = async (app: TestApp, url: string, payload: Record<string, unknown>) => await app.app.inject({ method: 'POST', url, headers: app.auth, payload })
const verify = async (app: TestApp, credential: unknown) => await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential } })
const validity = (body: { checks: Array<{ id: string, message: string }> }): string => body.checks.find((c) => c.id === 'validity_period')?.message ?? ''
const path = (url: string): string => new URL(url).pathname
const notAfter = (t: Test, validFrom: string, now: Date, what: string): void => {
  t.ok(Date.parse(validFrom) <= now.getTime(), `${what}: validFrom ${validFrom} is not after now (${now.toISOString()})`)
}

t.test('a credential corrected in the same second as its issue verifies valid at once, even with no clock leeway', async (t) => {
  // No leeway: only a validFrom that is not in the future can pass.
  const { app, setNow, now } = await setup(t, '2026-03-31T10:00:00.200Z', { VERIFY_CLOCK_LEEWAY_SECONDS: '0' })
  const achievement = await createAchievement(app)
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Asistant', email: 'jane@example.org' } })

  setNow('2026-03-31T10:00:00.900Z')
  const response = await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Jane Q. Assistant' } })
  t.equal(response.statusCode, 201, response.body)
  const second = response.json()
  t.equal(second.version, 2)
  t.equal(second.credential.validFrom, '2026-03-31T10:00:00Z', 'now in whole seconds, the same as version 1')
  notAfter(t, second.credential.validFrom, now(), 'the correction')
  t.equal(second.credential.validUntil, first.credential.validUntil, 'the period is unchanged')

  for (const [form, input] of [['JSON-LD', second.credential], ['VC-JWT', second.jwt]] as const) {
    const result = await verify(app, input)
    t.equal(result.statusCode, 200, `${form}: ${result.body}`)
    t.equal(result.json().status, 'valid', `${form}: valid at once`)
    t.equal(result.json().verified, true)
  }
  await assertIndependentlyValid(t, app, second.credential, second.jwt, now())
  t.equal((await verify(app, first.credential)).json().status, 'superseded', 'and version 1 is superseded, not valid')
})

t.test('versions made in quick succession are ordered by number, the last made is current, and none starts in the future', async (t) => {
  const { app, setNow, now } = await setup(t, '2026-03-31T10:00:00.100Z', { VERIFY_CLOCK_LEEWAY_SECONDS: '0' })
  const achievement = await createAchievement(app, { ...CMA_ACHIEVEMENT, recertification: { exam: true } })
  const first = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ana Ruis', email: 'ana@example.org' } })
  notAfter(t, first.credential.validFrom, now(), 'the issue')

  const made: Array<{ version: number, credential: Record<string, any> }> = [first]
  const steps: Array<[string, () => Promise<{ statusCode: number, body: string, json: () => any }>]> = [
    ['2026-03-31T10:00:00.300Z', async () => await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Ana Ruiz' } })],
    ['2026-03-31T10:00:00.500Z', async () => await post(app, `/api/v1/credentials/${first.id}/reissue`, { reason: 'correction', recipient: { name: 'Ana Ruiz Soto' } })],
    ['2026-03-31T10:00:00.700Z', async () => await post(app, `/api/v1/credentials/${first.id}/recertify`, { method: 'exam' })]
  ]
  for (const [at, step] of steps) {
    setNow(at)
    const response = await step()
    t.equal(response.statusCode, 201, response.body)
    notAfter(t, response.json().credential.validFrom, now(), `version ${String(response.json().version)}`)
    made.push(response.json())
  }
  setNow('2026-03-31T10:00:00.900Z')
  const deps = { sql: app.sql, keyRing: app.keyRing, urls: app.app.urls, now: now(), actor: 'test', statusLists: app.app.statusListPolicy, outbox: app.app.outbox }
  const resigned = await resignCredential(deps, first.id)
  notAfter(t, String(resigned.credential.validFrom), now(), 're-signing')
  made.push(resigned)

  t.same(made.map((v) => v.version), [1, 2, 3, 4, 5], 'each new version has the next number')
  t.same(made.map((v) => v.credential.validFrom), Array(5).fill('2026-03-31T10:00:00Z'), 'all in the same second: all valid from now')

  const versions = (await app.app.inject({ method: 'GET', url: `${path(first.url)}/versions` })).json()
  t.equal(versions.currentVersion, 5, 'the last made is current')
  t.same(versions.versions.map((v: { version: number, kind: string, state: string }) => [v.version, v.kind, v.state]),
    [[1, 'issue', 'superseded'], [2, 'correction', 'superseded'], [3, 'correction', 'superseded'], [4, 'recertification', 'superseded'], [5, 'resign', 'current']],
    'listed by number')
  const served = await app.app.inject({ method: 'GET', url: path(first.url), headers: { accept: 'application/ld+json' } })
  t.equal(served.body, JSON.stringify(resigned.credential), 'the credential URL serves the last version made')
  t.equal(served.json().credentialSubject.name, 'Ana Ruiz Soto', 'with the last correction')
  const record = (await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${first.id}`, headers: app.auth })).json()
  t.equal(record.version, 5, 'the staff record names version 5 as current')
  t.equal(record.recipientName, 'Ana Ruiz Soto')
  t.same(record.versions.map((v: { version: number }) => v.version), [1, 2, 3, 4, 5])

  for (const input of [resigned.credential, resigned.jwt]) t.equal((await verify(app, input)).json().status, 'valid', 'the current version is valid at once')
  for (const old of made.slice(0, 4)) {
    const result = (await verify(app, old.credential)).json()
    t.equal(result.status, 'superseded', `version ${old.version} is superseded`)
    t.equal(result.currentVersion.version, 5, `version ${old.version} points to version 5`)
  }
})

t.test('a validFrom within the clock leeway verifies valid and says so; beyond it, or with no leeway, it is not yet valid', async (t) => {
  const start = '2026-03-31T12:00:00Z'
  const lenient = await setup(t, start)
  const strict = await setup(t, start, { VERIFY_CLOCK_LEEWAY_SECONDS: '0' })
  t.equal(lenient.app.config.verifyClockLeewaySeconds, 60, 'the default leeway is 60 s')
  for (const { app } of [lenient, strict]) {
    const achievement = await createAchievement(app)
    const soon = await issue(app, { achievementId: achievement.id, recipient: { name: 'Soon', email: 'soon@example.org' }, validFrom: '2026-03-31T12:00:30Z' })
    const later = await issue(app, { achievementId: achievement.id, recipient: { name: 'Later', email: 'later@example.org' }, validFrom: '2026-03-31T12:01:30Z' })
    const leeway = app.config.verifyClockLeewaySeconds
    for (const [form, input] of [['JSON-LD', soon.credential], ['VC-JWT', soon.jwt]] as const) {
      const result = await verify(app, input)
      if (leeway === 60) {
        t.equal(result.statusCode, 200, `${form}, 30 s ahead, 60 s leeway: ${result.body}`)
        t.equal(result.json().status, 'valid')
        t.equal(validity(result.json()), 'The credential is valid from 2026-03-31T12:00:30Z, within the 60 s clock leeway of 2026-03-31T12:00:00.000Z.')
      } else {
        t.equal(result.statusCode, 422, `${form}, 30 s ahead, no leeway`)
        t.equal(result.json().status, 'not_yet_valid')
        t.equal(validity(result.json()), 'The credential is not valid until 2026-03-31T12:00:30Z (checked as of 2026-03-31T12:00:00.000Z).')
      }
    }
    for (const [form, input] of [['JSON-LD', later.credential], ['VC-JWT', later.jwt]] as const) {
      const result = await verify(app, input)
      t.equal(result.statusCode, 422, `${form}, 90 s ahead, ${leeway} s leeway`)
      t.equal(result.json().status, 'not_yet_valid', 'beyond the leeway: not yet valid')
      const allowing = leeway === 60 ? ', allowing 60 s of clock leeway' : ''
      t.equal(validity(result.json()), `The credential is not valid until 2026-03-31T12:01:30Z (checked as of 2026-03-31T12:00:00.000Z${allowing}).`)
    }
  }
})

t.test('validUntil and exp get no leeway: a second past the end is expired, whatever the setting', async (t) => {
  for (const leeway of ['60', '300']) {
    const { app } = await setup(t, '2026-03-31T12:00:00Z', { VERIFY_CLOCK_LEEWAY_SECONDS: leeway })
    const achievement = await createAchievement(app)
    const ended = await issue(app, { achievementId: achievement.id, recipient: { name: 'Ended', email: 'ended@example.org' }, validFrom: '2021-03-31T12:00:00Z', validUntil: '2026-03-31T11:59:59Z' })
    for (const [form, input] of [['JSON-LD', ended.credential], ['VC-JWT', ended.jwt]] as const) {
      const result = await verify(app, input)
      t.equal(result.statusCode, 422, `${form} with ${leeway} s leeway`)
      t.equal(result.json().status, 'expired', `${form}: expired a second ago is expired`)
      t.equal(validity(result.json()), 'The credential expired at 2026-03-31T11:59:59Z (checked as of 2026-03-31T12:00:00.000Z).')
    }
  }
})

t.test('the leeway is judged by checkValidityPeriod: validFrom up to the leeway ahead passes, validUntil is exact', async (t) => {
  const at = new Date('2026-03-31T12:00:00Z')
  const credential = (validFrom: string, validUntil?: string): Record<string, unknown> => ({ validFrom, ...(validUntil !== undefined ? { validUntil } : {}) })
  t.equal(checkValidityPeriod(credential('2026-03-31T12:01:00Z'), at).result, 'passed', 'exactly the default 60 s ahead')
  t.equal(checkValidityPeriod(credential('2026-03-31T12:01:01Z'), at).reason, 'not_yet_valid', 'a second beyond it')
  t.equal(checkValidityPeriod(credential('2026-03-31T12:00:01Z'), at, 0).reason, 'not_yet_valid', 'no leeway: a second ahead is not yet valid')
  t.equal(checkValidityPeriod(credential('2026-03-31T12:00:00Z'), at, 0).message, 'The credential was within its validity period as of 2026-03-31T12:00:00.000Z.', 'no leeway needed, none mentioned')
  t.equal(checkValidityPeriod(credential('2026-03-31T11:00:00Z', '2026-03-31T11:59:59Z'), at, 300).reason, 'expired', 'validUntil a second past: expired, whatever the leeway')
})

t.test('VERIFY_CLOCK_LEEWAY_SECONDS is a whole number of seconds from 0 to 300, 60 by default', async (t) => {
  t.equal(loadConfig({}).verifyClockLeewaySeconds, 60)
  t.equal(loadConfig({ VERIFY_CLOCK_LEEWAY_SECONDS: '0' }).verifyClockLeewaySeconds, 0)
  t.equal(loadConfig({ VERIFY_CLOCK_LEEWAY_SECONDS: '300' }).verifyClockLeewaySeconds, 300)
  for (const bad of ['301', '-1', '1.5', 'soon']) {
    t.throws(() => loadConfig({ VERIFY_CLOCK_LEEWAY_SECONDS: bad }), /"VERIFY_CLOCK_LEEWAY_SECONDS" must be a whole number from 0 to 300/, bad)
  }
})
