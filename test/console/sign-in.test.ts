import t from 'tap'
import { build } from '../helpers/build-app.js'
import { consoleCsrf, consoleStaff, enrol, newStaffUser, postJson, signInWithPasskey } from '../helpers/console.js'
import { SoftwareAuthenticator } from '../helpers/passkey-authenticator.js'
import { CookieJar, getPage, postForm } from '../helpers/portal.js'

t.test('a staff user enrols a passkey with their link, signs out, and signs in with it; every step audited', async (t) => {
  const app = await build(t)
  const { user, token } = await newStaffUser(app, { email: 'registrar@aama.example', name: 'Rita Registrar', role: 'registrar' })
  const jar = new CookieJar()

  const signedOut = await getPage(app, jar, '/console')
  t.equal(signedOut.statusCode, 303, 'the console asks for a session')
  t.equal(signedOut.headers.location, '/console/sign-in?next=%2Fconsole')

  const authenticator = new SoftwareAuthenticator(app.config.publicBaseUrl)
  const enrolled = await enrol(app, jar, authenticator, token)
  t.equal(enrolled.statusCode, 200, enrolled.body)
  t.same(enrolled.json(), { next: '/console' })
  const cookie = enrolled.cookies.find((c) => c.name === 'tessera_staff')
  t.ok(cookie?.httpOnly, 'the session cookie is HttpOnly')
  t.equal(cookie?.sameSite, 'Strict')
  t.equal(cookie?.path, '/console')

  const dashboard = await getPage(app, jar, '/console')
  t.equal(dashboard.statusCode, 200)
  t.match(dashboard.body, /Rita Registrar \(Registrar\)/, 'the page says who is signed in')
  t.match(dashboard.body, /Badge orders waiting/)
  t.notMatch(dashboard.body, /Administration/, 'a registrar does not see administration')
  t.match(dashboard.headers['content-security-policy'], /script-src 'self'/)
  t.equal(dashboard.headers['cache-control'], 'no-store')

  const again = await enrol(app, new CookieJar(), new SoftwareAuthenticator(app.config.publicBaseUrl), token)
  t.equal(again.statusCode, 403, 'an enrolment link works once')

  const out = await postForm(app, jar, '/console/sign-out', { _csrf: consoleCsrf(dashboard.body) })
  t.equal(out.statusCode, 303)
  t.equal((await getPage(app, jar, '/console')).statusCode, 303, 'signed out')

  const signedIn = await signInWithPasskey(app, jar, authenticator)
  t.equal(signedIn.statusCode, 200, signedIn.body)
  t.equal((await getPage(app, jar, '/console')).statusCode, 200, 'signed in with the passkey')

  const trail = await app.sql<Array<{ actor: string, action: string }>>`select actor, action from audit_events where subject_type = 'staff_user' and subject_id = ${user.id} order by id`
  t.same(trail.map((e) => e.action), ['staff_user.created', 'staff_user.enrolment_link_created', 'staff_user.passkey_registered', 'staff_user.signed_in', 'staff_user.signed_in'])
  t.ok(trail.slice(2).every((e) => e.actor === `staff:${user.id}`), 'the staff user is the actor of their own sign-ins')
})

t.test('a passkey answer is refused when its signature, origin, challenge or counter is wrong; failures are audited', async (t) => {
  const app = await build(t)
  const staff = await consoleStaff(app, 'viewer')
  const jar = new CookieJar()

  const otherOrigin = await signInWithPasskey(app, jar, staff.authenticator, { origin: 'https://phish.example' })
  t.equal(otherOrigin.statusCode, 401, 'signed for another origin')
  t.equal(otherOrigin.json().type, 'urn:tessera:problem:passkey_refused')

  const stranger = new SoftwareAuthenticator(app.config.publicBaseUrl)
  stranger.register({ challenge: 'x', user: { id: 'nobody' } })
  t.equal((await signInWithPasskey(app, jar, stranger)).statusCode, 401, 'a passkey this service never registered')

  t.equal((await signInWithPasskey(app, jar, staff.authenticator)).statusCode, 200, 'the right passkey signs in')
  t.equal((await signInWithPasskey(app, new CookieJar(), staff.authenticator, { counter: 1 })).statusCode, 401, 'a counter that went backwards (a cloned authenticator)')

  // A challenge is used once: replaying a whole answer fails.
  const page = await getPage(app, jar, '/console/sign-in')
  const csrf = consoleCsrf(page.body)
  const { challengeId, options } = (await postJson(app, jar, '/console/passkey/sign-in-options', csrf, {})).json()
  const answer = staff.authenticator.authenticate(options)
  const first = await postJson(app, jar, '/console/passkey/sign-in', csrf, { challengeId, response: answer })
  t.equal(first.statusCode, 200, first.body)
  t.equal((await postJson(app, jar, '/console/passkey/sign-in', csrf, { challengeId, response: answer })).statusCode, 401, 'a replayed answer')

  const withoutCsrf = await app.app.inject({ method: 'POST', url: '/console/passkey/sign-in-options', headers: { 'content-type': 'application/json' }, payload: '{}' })
  t.equal(withoutCsrf.statusCode, 403, 'no CSRF token, no challenge')

  const failures = await app.sql<Array<{ n: number }>>`select count(*)::int as n from audit_events where action = 'staff_user.sign_in_failed'`
  t.equal(failures[0]!.n, 4, 'each refused attempt is in the audit trail')
})

t.test('a disabled staff user\'s session ends at once and their passkey stops working', async (t) => {
  const app = await build(t)
  const admin = await consoleStaff(app, 'admin')
  const viewer = await consoleStaff(app, 'viewer')
  t.equal((await viewer.page('/console')).statusCode, 200)
  const { disableStaffUser } = await import('../../src/capabilities/staff-accounts/accounts.js')
  await disableStaffUser({ sql: app.sql, actor: `staff:${admin.user.id}`, now: app.app.clock(), baseUrl: app.config.publicBaseUrl }, viewer.user.id)
  t.equal((await viewer.page('/console')).statusCode, 303, 'the session no longer works')
  t.equal((await signInWithPasskey(app, new CookieJar(), viewer.authenticator)).statusCode, 401, 'nor the passkey')
})

t.test('after signing in, the console goes only to a console path (no open redirect)', async (t) => {
  const { safeNext } = await import('../../src/channels/console/page.js')
  t.equal(safeNext('/console/credentials?q=smith'), '/console/credentials?q=smith')
  t.equal(safeNext('https://evil.example/console'), '/console')
  t.equal(safeNext('//evil.example'), '/console')
  t.equal(safeNext('/account'), '/console')
  t.equal(safeNext(undefined), '/console')
})
