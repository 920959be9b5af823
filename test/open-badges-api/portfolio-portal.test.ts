import { createHash, randomUUID } from 'node:crypto'
import t from 'tap'
import { upsertPostedCredential } from '../../src/capabilities/open-badges-api/portfolio.js'
import { listStoredCredentials } from '../../src/capabilities/open-badges-api/store.js'
import { BASE_URL, build, createAchievement, issue } from '../helpers/build-app.js'
import { ceBadge } from '../helpers/continuing-education.js'
import { generateDidKey, signCredential } from '../helpers/did-key-signing.js'
import { startSmtpServer } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn } from '../helpers/portal.js'

/**
 * The portfolio in the portal: the badges from other issuers a holder keeps
 * here, each marked as not issued by this service with the verifier's verdict
 * of when it was stored, only the holder's own, and removed with a CSRF-
 * protected form.
 */

const NOW = new Date('2026-12-04T12:00:00Z')
const smtp = await startSmtpServer()
t.teardown(smtp.close)
const app = await build(t, { clock: () => NOW, env: { SMTP_URL: smtp.url } })
await app.app.ready()
const achievement = await createAchievement(app)
await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
await issue(app, { achievementId: achievement.id, recipient: { name: 'Bob Assistant', email: 'bob@example.org' } })

const key = await generateDidKey()
const salt = randomUUID()
const badge = await signCredential(ceBadge(key.did, { issuerName: 'Midwest Allied Health CE Institute', title: 'Phlebotomy Refresher', subject: { identifier: [{ type: 'IdentityObject', identityType: 'emailAddress', hashed: true, salt, identityHash: 'sha256$' + createHash('sha256').update('jane@example.org' + salt).digest('hex') }] } }), key)
const deps = { sql: app.sql, verifier: app.app.verifier, now: NOW, publicBaseUrl: BASE_URL }
if (await upsertPostedCredential(deps, 'jane@example.org', { kind: 'json', text: JSON.stringify(badge), value: badge }) !== 'created') throw new Error('the badge was not stored')
const [stored] = await listStoredCredentials(app.sql, 'jane@example.org')

t.test('signed out, the portfolio page sends the browser to sign in', async (t) => {
  const response = await app.app.inject({ method: 'GET', url: '/account/portfolio' })
  t.equal(response.statusCode, 303)
  t.equal(response.headers.location, '/account')
})

t.test('the holder sees their stored badge, marked as from another issuer and not issued by this service, with its verification state', async (t) => {
  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  const page = await getPage(app, jar, '/account/portfolio')
  t.equal(page.statusCode, 200)
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.body, 'From another issuer — not issued by American Association of Medical Assistants')
  t.match(page.body, 'Phlebotomy Refresher')
  t.match(page.body, 'Midwest Allied Health CE Institute')
  t.match(page.body, 'the signature is good, but who the issuer is could not be confirmed')
  t.match(page.body, key.did)

  const bob = new CookieJar()
  await signIn(app, bob, 'bob@example.org', smtp.messages)
  const bobs = await getPage(app, bob, '/account/portfolio')
  t.notMatch(bobs.body, 'Phlebotomy Refresher', 'only the holder\'s own')
  t.match(bobs.body, 'You keep no badges from other issuers here.')
  const notBobs = await postForm(app, bob, `/account/portfolio/${stored!.id}/remove`, { _csrf: csrfToken((await getPage(app, bob, '/account')).body) })
  t.equal(notBobs.statusCode, 404, 'another holder cannot remove it')

  const noToken = await app.app.inject({ method: 'POST', url: `/account/portfolio/${stored!.id}/remove`, headers: { ...jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })
  t.equal(noToken.statusCode, 403, 'CSRF: a post without the page\'s token is refused')
  t.equal((await listStoredCredentials(app.sql, 'jane@example.org')).length, 1)

  const checked = await postForm(app, jar, `/account/portfolio/${stored!.id}/check`, { _csrf: csrfToken(page.body) })
  t.equal(checked.statusCode, 200)
  t.match(checked.body, 'The badge was checked again')
  t.match(checked.body, 'the signature is good, but who the issuer is could not be confirmed')
  t.equal((await postForm(app, bob, `/account/portfolio/${stored!.id}/check`, { _csrf: csrfToken((await getPage(app, bob, '/account')).body) })).statusCode, 404, 'another holder cannot check it')

  const removed = await postForm(app, jar, `/account/portfolio/${stored!.id}/remove`, { _csrf: csrfToken(page.body) })
  t.equal(removed.statusCode, 200)
  t.match(removed.body, 'The badge was removed from your portfolio')
  t.notMatch(removed.body, 'Phlebotomy Refresher')
  t.same(await listStoredCredentials(app.sql, 'jane@example.org'), [])
})
