import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from '../helpers/build-app.js'
import { startSmtpServer, waitFor } from '../helpers/notifications.js'
import { CookieJar, csrfToken, getPage, postForm, signIn, signInLink } from '../helpers/portal.js'

/**
 * Sign-in by emailed link: the same answer for every address, single-use
 * tokens that expire, limits per address and per client IP, CSRF on every
 * form, sessions that end. Real SMTP (smtp-server), real PostgreSQL.
 */

t.test('every address gets the same answer; only one that holds badges gets a link, and the answer does not wait for the mail', async (t) => {
  // The mail server accepts no message until released: an answer that waited for it would never come.
  const smtp = await startSmtpServer({ hold: true })
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })

  const ask = async (email: string): Promise<{ status: number, body: string }> => {
    const jar = new CookieJar()
    const form = await getPage(app, jar, '/account')
    const response = await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email })
    return { status: response.statusCode, body: response.body }
  }
  const known = await ask('Jane@Example.org')
  const unknown = await ask('nobody@example.org')
  t.equal(known.status, 200)
  t.equal(unknown.status, 200, 'the same status')
  t.equal(known.body, unknown.body, 'byte for byte the same page')
  t.match(known.body, /If this address holds badges, a sign-in link is on its way/)

  for (let i = 0; i < 6; i++) {
    await ask('jane@example.org')
    await ask(`stranger${i}@example.org`)
  }
  // The mail server holds what it was sent: no answer can have waited for sending, so none is slower for an address that holds badges.
  await waitFor('a link to reach the mail server', () => smtp.messages.length > 0 || undefined)
  t.equal(smtp.accepted, 0, 'all fourteen answers came back before the mail server accepted any link')
  smtp.release()
  await app.app.background.settled()

  t.equal(smtp.messages.length, 7, 'a link for each request for the address that holds a badge, none for the others')
  t.ok(smtp.messages.every((m) => m.envelopeTo.join() === 'jane@example.org'))
  const mail = smtp.messages[0]
  t.match(mail?.subject, /sign-in link/)
  t.match(mail?.text, /works once, for 15 minutes/)
  t.match(signInLink(mail?.text ?? ''), /^https:\/\/badges\.test\.example\/account\/sign-in\?token=[\w-]{43}$/, '256 random bits, base64url')
  const stored = await app.sql<Array<{ email: string, hash: Buffer }>>`select email, token_hash as hash from portal_sign_in_tokens`
  t.equal(stored.length, 7)
  t.ok(stored.every((row) => row.email === 'jane@example.org' && row.hash.length === 32), 'only SHA-256 hashes are stored')
  const token = new URL(signInLink(mail?.text ?? '')).searchParams.get('token') ?? ''
  const clear = await app.sql`select 1 from portal_sign_in_tokens where encode(token_hash, 'escape') like ${'%' + token + '%'}`
  t.equal(clear.length, 0, 'the token itself is nowhere in the table')
})

t.test('a link signs in once, within 15 minutes; the session is a server-side, HttpOnly, SameSite=Lax cookie that sign-out ends', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  let now = new Date('2026-11-25T12:00:00Z')
  const app = await build(t, { clock: () => now, env: { SMTP_URL: smtp.url, PORTAL_SESSION_HOURS: '2', TRUST_PROXY: 'true' } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2026-01-01T00:00:00Z' })

  const jar = new CookieJar()
  const form = await getPage(app, jar, '/account')
  t.match(form.body, /Email me a sign-in link/)
  await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
  await app.app.background.settled()
  const token = new URL(signInLink(smtp.messages[0]?.text ?? '')).searchParams.get('token') ?? ''

  const confirm = await getPage(app, jar, `/account/sign-in?token=${token}`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, /Press the button to finish signing in/, 'opening the link (as a mail scanner would) does not use it')
  const signedIn = await postForm(app, jar, '/account/sign-in', { _csrf: csrfToken(confirm.body), token }, { 'x-forwarded-proto': 'https' })
  t.equal(signedIn.statusCode, 303)
  t.equal(signedIn.headers.location, '/account')
  const cookie = String(([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('tessera_session=')))
  t.match(cookie, /HttpOnly/i)
  t.match(cookie, /SameSite=Lax/i)
  t.match(cookie, /Secure/i, 'Secure when the request came over https')
  t.equal((await app.sql`select 1 from portal_sessions where email = 'jane@example.org' and ended_at is null`).length, 1, 'the session is stored on the server')

  const mine = await getPage(app, jar, '/account')
  t.match(mine.body, /Signed in as <strong>jane@example.org<\/strong>/)
  t.match(mine.body, /<h2 id="badge-[^"]+">CMA \(AAMA\)<\/h2>/)

  const again = new CookieJar()
  const confirmAgain = await getPage(app, again, `/account/sign-in?token=${token}`)
  const reused = await postForm(app, again, '/account/sign-in', { _csrf: csrfToken(confirmAgain.body), token })
  t.equal(reused.statusCode, 400, 'a used link does not sign in twice')
  t.match(reused.body, /This sign-in link does not work/)
  t.notOk(again.cookies.has('tessera_session'))

  // Expiry: a new link, used 16 minutes later.
  await postForm(app, new CookieJar(), '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' }).then(() => undefined)
  const late = new CookieJar()
  const lateForm = await getPage(app, late, '/account')
  await postForm(app, late, '/account', { _csrf: csrfToken(lateForm.body), email: 'jane@example.org' })
  await app.app.background.settled()
  const lateToken = new URL(signInLink(smtp.messages.at(-1)?.text ?? '')).searchParams.get('token') ?? ''
  now = new Date(now.getTime() + 16 * 60_000)
  const lateConfirm = await getPage(app, late, `/account/sign-in?token=${lateToken}`)
  t.equal((await postForm(app, late, '/account/sign-in', { _csrf: csrfToken(lateConfirm.body), token: lateToken })).statusCode, 400, 'a link older than 15 minutes does not sign in')

  // The session lasts PORTAL_SESSION_HOURS from sign-in.
  t.match((await getPage(app, jar, '/account')).body, /Signed in as/, 'still signed in 16 minutes later')
  now = new Date(now.getTime() + 2 * 3600_000)
  t.match((await getPage(app, jar, '/account')).body, /Email me a sign-in link/, 'signed out once the session has expired')

  // Sign-out ends the session on the server: the old cookie no longer works.
  now = new Date('2026-11-25T15:00:00Z')
  const fresh = new CookieJar()
  await signIn(app, fresh, 'jane@example.org', smtp.messages)
  const stolen = new Map(fresh.cookies)
  const account = await getPage(app, fresh, '/account')
  const out = await postForm(app, fresh, '/account/sign-out', { _csrf: csrfToken(account.body) })
  t.equal(out.statusCode, 200)
  t.match(out.body, /You are signed out/)
  const replay = new CookieJar()
  for (const [k, v] of stolen) replay.cookies.set(k, v)
  t.match((await getPage(app, replay, '/account')).body, /Email me a sign-in link/, 'the cookie of an ended session signs nobody in')
})

t.test('forms without a valid CSRF token are refused, and send nothing', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const jar = new CookieJar()
  const form = await getPage(app, jar, '/account')
  const missing = await postForm(app, jar, '/account', { email: 'jane@example.org' })
  t.equal(missing.statusCode, 403)
  t.match(missing.headers['content-type'], /text\/html/)
  t.match(missing.body, /This form has expired/)
  const forged = await postForm(app, jar, '/account', { _csrf: 'forged-token', email: 'jane@example.org' })
  t.equal(forged.statusCode, 403)
  const otherBrowser = new CookieJar()
  const stolenToken = await postForm(app, otherBrowser, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
  t.equal(stolenToken.statusCode, 403, 'a token is good only with the cookie of the browser it was given to')
  const order = await postForm(app, new CookieJar(), '/order', { name: 'Sam', email: 'sam@example.org', certificateNumber: '1', certifiedOn: '2024-01-01', consent: 'yes' })
  t.equal(order.statusCode, 403, 'the order form too')
  await app.app.background.settled()
  t.equal(smtp.messages.length, 0)
  t.equal((await app.sql`select 1 from orders`).length, 0)
})

t.test('links are limited per address, and form posts per client IP', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url, SIGN_IN_LINKS_PER_ADDRESS_PER_HOUR: '3', RATE_LIMIT_FORMS_PER_MINUTE: '6' } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const jar = new CookieJar()
  const form = await getPage(app, jar, '/account')
  const bodies = new Set<string>()
  for (let i = 0; i < 5; i++) {
    const response = await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
    t.equal(response.statusCode, 200)
    bodies.add(response.body)
  }
  t.equal(bodies.size, 1, 'the same answer after the address limit')
  await app.app.background.settled()
  t.equal(smtp.messages.length, 3, 'three links an hour for one address')
  const sixth = await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
  t.equal(sixth.statusCode, 200)
  const seventh = await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' })
  t.equal(seventh.statusCode, 429, 'the seventh post in a minute from one address is refused')
  t.match(seventh.body, /Too many attempts/)
  const elsewhere = await postForm(app, jar, '/account', { _csrf: csrfToken(form.body), email: 'jane@example.org' }, { 'x-forwarded-for': '203.0.113.9' })
  t.equal(elsewhere.statusCode, 429, 'X-Forwarded-For is not trusted without TRUST_PROXY')
})

t.test('an email correction ends the sessions of the old address; the holder signs in with the new one', async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const app = await build(t, { env: { SMTP_URL: smtp.url } })
  const achievement = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const jar = new CookieJar()
  await signIn(app, jar, 'jane@example.org', smtp.messages)
  t.match((await getPage(app, jar, '/account')).body, /<h2 id="badge-[^"]+">CMA \(AAMA\)<\/h2>/)
  const corrected = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { email: 'jane.smith@example.org' } } })
  t.equal(corrected.statusCode, 201)
  t.match((await getPage(app, jar, '/account')).body, /Email me a sign-in link/, 'the old address\'s session ended')
  const next = new CookieJar()
  await signIn(app, next, 'jane.smith@example.org', smtp.messages)
  const mine = await getPage(app, next, '/account')
  t.match(mine.body, /Signed in as <strong>jane.smith@example.org<\/strong>/)
  t.match(mine.body, /<h2 id="badge-[^"]+">CMA \(AAMA\)<\/h2>/)
})
