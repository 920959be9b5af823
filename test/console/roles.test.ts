import t from 'tap'
import { ROLE_SCOPES, ROLES } from '../../src/capabilities/staff-accounts/roles.js'
import { build } from '../helpers/build-app.js'
import { consoleCsrf, consoleStaff } from '../helpers/console.js'
import { CookieJar } from '../helpers/portal.js'

/**
 * Walks Fastify's route table, as test/route-auth.test.ts does for API keys:
 * every console route is public or declares a scope; signed out, a page sends
 * the browser to sign in and a post is refused; for each role, every route
 * whose scope the role lacks answers 403, before its body is even read (the
 * role's check runs on request, so a placeholder id and an empty form do);
 * and nothing was changed or audited by any refused call.
 */

const sampleUrl = (url: string): string => url.replace(':version', '1').replace(':slot', 'logo').replace(':sheet', 'certificate.pdf').replace(/:[A-Za-z]+/g, 'AAAAAAAAAAAA')

t.test('every console route declares a scope or is public, and a role without the scope gets 403 on every method', { timeout: 240_000 }, async (t) => {
  const app = await build(t)
  const routes = app.app.routeTable.filter((r) => r.url.startsWith('/console'))
  t.ok(routes.length >= 60, `${routes.length} console routes found`)
  const guarded = routes.filter((r) => r.config?.consolePublic !== true)
  for (const route of routes) t.ok(route.config?.consolePublic === true || route.config?.scope !== undefined, `${route.url}: public or scoped`)

  const anonymous = new CookieJar()
  for (const route of guarded) {
    for (const method of ([] as string[]).concat(route.method).filter((m) => m === 'GET' || m === 'POST')) {
      const answer = await app.app.inject({ method: method as 'GET', url: sampleUrl(route.url), headers: { accept: 'text/html', ...anonymous.header(), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, ...(method === 'POST' ? { payload: '' } : {}) })
      if (method === 'GET') t.equal(answer.statusCode, 303, `GET ${route.url}: signed out, to sign in`)
      else t.equal(answer.statusCode, 401, `POST ${route.url}: signed out, refused`)
    }
  }

  const auditBefore = (await app.sql`select count(*)::int as n from audit_events`)[0]!.n as number
  for (const role of ROLES) {
    const staff = await consoleStaff(app, role)
    const csrf = consoleCsrf((await staff.page('/console/sign-in')).body)
    const allowed = new Set<string>(ROLE_SCOPES[role])
    let refused = 0
    for (const route of guarded) {
      const scope = route.config?.scope as string
      if (allowed.has(scope)) continue
      for (const method of ([] as string[]).concat(route.method).filter((m) => m === 'GET' || m === 'POST')) {
        const answer = await app.app.inject({ method: method as 'GET', url: sampleUrl(route.url), headers: { accept: 'text/html', ...staff.jar.header(), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, ...(method === 'POST' ? { payload: `_csrf=${encodeURIComponent(csrf)}&confirmed=yes` } : {}) })
        t.equal(answer.statusCode, 403, `${role}: ${method} ${route.url} needs "${scope}"`)
        t.match(answer.body, `Your role (${role}) does not allow this`)
        refused++
      }
    }
    if (role === 'admin') t.equal(refused, 0, 'an administrator holds every scope')
    else t.ok(refused > 10, `${role}: ${refused} routes refused`)
  }
  // Only the users' own enrolments and sign-ins were audited: nothing a refused call did.
  const actions = await app.sql<Array<{ action: string }>>`select action from audit_events order by id offset ${auditBefore}`
  t.same([...new Set(actions.map((a) => a.action))].sort(), ['staff_user.created', 'staff_user.enrolment_link_created', 'staff_user.passkey_registered', 'staff_user.signed_in'].sort())
})
