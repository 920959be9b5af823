import type { LightMyRequestResponse } from 'fastify'
import type { TestApp } from './build-app.js'

/** A browser's cookies over app.inject: what Set-Cookie gave, sent back on every request. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  take (response: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      if (c.value === '' || c.maxAge === 0) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
    return response
  }

  header (): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
  }
}

/** The CSRF token in a page's form. */
export function csrfToken (html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (match?.[1] === undefined) throw new Error('no CSRF token in the page')
  return match[1]
}

/** A form post as a browser makes it (urlencoded), with the jar's cookies. */
export async function postForm (t: TestApp, jar: CookieJar, url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return jar.take(await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...jar.header(), ...headers }, payload: new URLSearchParams(fields).toString() }))
}

export async function getPage (t: TestApp, jar: CookieJar, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return jar.take(await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...jar.header(), ...headers } }))
}

/** The sign-in link in an email's text. */
export function signInLink (text: string): string {
  const match = /https?:\/\/\S+\/account\/sign-in\?token=[\w-]+/.exec(text)
  if (match === null) throw new Error('no sign-in link in the email')
  return match[0]
}

/** Asks for a link, reads it from the mail server, and signs in: the jar then holds the session. */
export async function signIn (t: TestApp, jar: CookieJar, email: string, messages: Array<{ text?: string, envelopeTo: string[] }>): Promise<void> {
  const before = messages.length
  const form = await getPage(t, jar, '/account')
  await postForm(t, jar, '/account', { _csrf: csrfToken(form.body), email })
  await t.app.background.settled()
  // The sign-in email, not another one to the same address that the job workers sent meanwhile (a badge's).
  const mail = messages.slice(before).find((m) => m.envelopeTo.includes(email) && /\/account\/sign-in\?token=/.test(m.text ?? ''))
  if (mail === undefined) throw new Error(`no sign-in email to ${email}`)
  const token = new URL(signInLink(mail.text ?? '')).searchParams.get('token') ?? ''
  const confirm = await getPage(t, jar, `/account/sign-in?token=${token}`)
  const done = await postForm(t, jar, '/account/sign-in', { _csrf: csrfToken(confirm.body), token })
  if (done.statusCode !== 303) throw new Error(`sign-in failed: ${done.statusCode} ${done.body}`)
}
