import type { FastifyReply, FastifyRequest } from 'fastify'
import { renderSitePage } from '../../capabilities/presentation/pages.js'
import { ROLE_NAMES } from '../../capabilities/staff-accounts/roles.js'
import type { StaffUserRow } from '../../capabilities/staff-accounts/store.js'
import type { Scope } from '../../capabilities/staff-access/bearer-auth.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The staff user signed in to the console (console routes only). */
    staffUser?: StaffUserRow
  }
  interface FastifyContextConfig {
    /** A console route anyone may reach (sign-in, enrolment, assets): no session asked. */
    consolePublic?: boolean
  }
}

/** The console's navigation: each entry shown only to a role whose scopes include the one it needs. */
const NAV: Array<{ href: string, text: string, scope: Scope }> = [
  { href: '/console', text: 'Dashboard', scope: 'credentials:read' },
  { href: '/console/credentials', text: 'Search', scope: 'credentials:read' },
  { href: '/console/queues/orders', text: 'Orders', scope: 'orders:admin' },
  { href: '/console/queues/corrections', text: 'Corrections', scope: 'orders:admin' },
  { href: '/console/queues/applications', text: 'Recertification', scope: 'recertification:review' },
  { href: '/console/achievements', text: 'Achievements', scope: 'achievements:read' },
  { href: '/console/upload', text: 'CSV upload', scope: 'credentials:issue' },
  { href: '/console/admin', text: 'Administration', scope: 'staff:admin' }
]

/** Only paths inside the console are places to go after signing in (no open redirect). */
export const safeNext = (next: string | undefined): string => next !== undefined && /^\/console(\/[\w\-/?=&.%]*)?$/.test(next) && !next.startsWith('//') ? next : '/console'

/** Whether the signed-in staff user holds a scope (pages hide what the role cannot do; routes refuse it). */
export const may = (request: FastifyRequest, scope: Scope): boolean => request.staff?.scopes.includes(scope) === true

/**
 * Sends a console page (templates/console/<name>.eta in the console layout),
 * with the signed-in user, the navigation their role sees, a CSRF token for
 * its forms, and no caching or indexing.
 */
export function sendConsolePage (request: FastifyRequest, reply: FastifyReply, template: string, data: { title: string } & Record<string, unknown>, status = 200): FastifyReply {
  const user = request.staffUser
  const path = request.url.split('?')[0]
  const nav = user === undefined ? [] : NAV.filter((n) => may(request, n.scope)).map((n) => ({ ...n, current: n.href === path || (n.href !== '/console' && path?.startsWith(n.href) === true) }))
  const html = renderSitePage(`console/${template}`, request.server.config, {
    ...data,
    staff: user === undefined ? undefined : { name: user.name, role: ROLE_NAMES[user.role] },
    nav,
    csrf: reply.generateCsrf()
  })
  return reply.code(status).header('X-Robots-Tag', 'noindex').header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
}

/** A console page with a heading, a message and an optional link onward (results, refusals). */
export function sendConsoleMessage (request: FastifyRequest, reply: FastifyReply, status: number, message: { heading: string, text: string, alert?: boolean, next?: { href: string, text: string } }): FastifyReply {
  return sendConsolePage(request, reply, 'message', { title: message.heading, ...message }, status)
}
