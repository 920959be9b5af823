import type { FastifyInstance, FastifyReply } from 'fastify'
import { findAchievement } from '../../capabilities/achievements/store.js'
import { normaliseEmail } from '../../capabilities/credentials/build-credential.js'
import { findCredential } from '../../capabilities/credentials/store.js'
import { renderSitePage } from '../../capabilities/presentation/pages.js'

/** One of the signed-in holder's badges, as the per-badge portal pages need it. */
export interface HolderBadge { id: string, achievementName: string, revoked: boolean }

/**
 * The holder's own credential, or undefined when the id names none of theirs.
 * Two reads by key: the page needs the achievement's name, not a verification.
 */
export async function findHolderBadge (app: FastifyInstance, email: string, id: string): Promise<HolderBadge | undefined> {
  const credential = await findCredential(app.sql, id)
  if (credential === undefined || normaliseEmail(credential.recipientEmail) !== normaliseEmail(email)) return undefined
  const achievement = await findAchievement(app.sql, credential.achievementId)
  return { id: credential.id, achievementName: achievement?.name ?? 'this', revoked: credential.revokedAt !== null }
}

/** A portal page: never cached, never indexed. */
export function sendPortalPage (app: FastifyInstance, reply: FastifyReply, status: number, template: string, data: { title: string } & Record<string, unknown>): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').header('X-Robots-Tag', 'noindex').send(renderSitePage(template, app.config, data))
}

/** A one-paragraph portal page (a refusal or a result), with the way back to My badges. */
export function sendPortalMessage (app: FastifyInstance, reply: FastifyReply, status: number, heading: string, text: string): FastifyReply {
  return sendPortalPage(app, reply, status, 'account-message', { title: heading, heading, text, alert: status !== 200, next: { href: '/account', text: 'Back to my badges' } })
}
