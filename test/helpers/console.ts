import type { LightMyRequestResponse } from 'fastify'
import { createStaffUser } from '../../src/capabilities/staff-accounts/accounts.js'
import type { Role } from '../../src/capabilities/staff-accounts/roles.js'
import type { StaffUserRow } from '../../src/capabilities/staff-accounts/store.js'
import type { TestApp } from './build-app.js'
import { SoftwareAuthenticator } from './passkey-authenticator.js'
import { CookieJar, getPage, postForm } from './portal.js'

/** The CSRF token of a console page (its <meta name="csrf-token">, also in every form). */
export function consoleCsrf (html: string): string {
  const match = /<meta name="csrf-token" content="([^"]+)">/.exec(html)
  if (match?.[1] === undefined) throw new Error('no CSRF token in the console page')
  return match[1]
}

/** A fetch() from a console page: JSON with the page's CSRF token in a header, the jar's cookies. */
export async function postJson (t: TestApp, jar: CookieJar, url: string, csrf: string, body: unknown): Promise<LightMyRequestResponse> {
  return jar.take(await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, ...jar.header() }, payload: JSON.stringify(body) }))
}

/** Creates a staff user (as an administrator at the CLI would) and the enrolment link's token. */
export async function newStaffUser (t: TestApp, input: { email?: string, name?: string, role: Role }): Promise<{ user: StaffUserRow, token: string }> {
  const { user, enrolmentUrl } = await createStaffUser({ sql: t.sql, actor: 'cli', now: t.app.clock(), baseUrl: t.config.publicBaseUrl }, { email: input.email ?? `${input.role}-${Math.random().toString(36).slice(2, 8)}@aama.example`, name: input.name ?? `Test ${input.role}`, role: input.role })
  return { user, token: new URL(enrolmentUrl).searchParams.get('token') ?? '' }
}

/** Registers a passkey with an enrolment token, through the console's own pages and endpoints: the jar is then signed in. */
export async function enrol (t: TestApp, jar: CookieJar, authenticator: SoftwareAuthenticator, token: string): Promise<LightMyRequestResponse> {
  const page = await getPage(t, jar, `/console/enrol?token=${token}`)
  const csrf = consoleCsrf(page.body)
  const started = await postJson(t, jar, '/console/passkey/registration-options', csrf, { token })
  if (started.statusCode !== 200) return started
  const { challengeId, options } = started.json()
  return await postJson(t, jar, '/console/passkey/register', csrf, { token, challengeId, response: authenticator.register(options) })
}

/** Signs in with a passkey the authenticator holds, as the sign-in page's button does. */
export async function signInWithPasskey (t: TestApp, jar: CookieJar, authenticator: SoftwareAuthenticator, overrides: Parameters<SoftwareAuthenticator['authenticate']>[2] = {}): Promise<LightMyRequestResponse> {
  const page = await getPage(t, jar, '/console/sign-in')
  const csrf = consoleCsrf(page.body)
  const started = await postJson(t, jar, '/console/passkey/sign-in-options', csrf, {})
  const { challengeId, options } = started.json()
  return await postJson(t, jar, '/console/passkey/sign-in', csrf, { challengeId, response: authenticator.authenticate(options, undefined, overrides) })
}

/** A staff user of a role, enrolled and signed in: their cookie jar, and helpers for pages and forms. */
export async function consoleStaff (t: TestApp, role: Role, input: { email?: string, name?: string } = {}): Promise<{ user: StaffUserRow, jar: CookieJar, authenticator: SoftwareAuthenticator, page: (url: string) => Promise<LightMyRequestResponse>, submit: (pageUrl: string, action: string, fields: Record<string, string>) => Promise<LightMyRequestResponse> }> {
  const { user, token } = await newStaffUser(t, { ...input, role })
  const jar = new CookieJar()
  const authenticator = new SoftwareAuthenticator(t.config.publicBaseUrl)
  const enrolled = await enrol(t, jar, authenticator, token)
  if (enrolled.statusCode !== 200) throw new Error(`enrolment failed: ${enrolled.statusCode} ${enrolled.body}`)
  return {
    user,
    jar,
    authenticator,
    page: async (url) => await getPage(t, jar, url),
    // A form as a browser sends it: the CSRF token from the page that shows the form.
    submit: async (pageUrl, action, fields) => {
      const shown = await getPage(t, jar, pageUrl)
      return await postForm(t, jar, action, { _csrf: consoleCsrf(shown.body), ...fields })
    }
  }
}
