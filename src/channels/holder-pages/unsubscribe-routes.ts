import formBody from '@fastify/formbody'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { findAchievement } from '../../capabilities/achievements/store.js'
import { findCredential } from '../../capabilities/credentials/store.js'
import { renderUnsubscribePage, sendPage } from '../../capabilities/presentation/pages.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage } from '../../infrastructure/http/common-schemas.js'
import { isUnsubscribeToken, optOutOfReminders } from '../../capabilities/notifications/unsubscribe.js'

const params = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID_PATTERN } } } as const
const query = { type: 'object', properties: { token: { type: 'string', maxLength: 64 } } } as const

/**
 * The unsubscribe link of reminder emails. GET only shows a confirmation form
 * (mail scanners follow links; they must not unsubscribe anyone); POST does
 * it, from that form or as RFC 8058 one-click unsubscribe from the mail client.
 */
export async function unsubscribeRoutes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(formBody, { bodyLimit: 1024 })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const lookup = async (id: string, token: string | undefined): Promise<{ achievementName: string } | undefined> => {
    if (token === undefined || !await isUnsubscribeToken(app.sql, id, token)) return undefined
    const credential = await findCredential(app.sql, id)
    if (credential === undefined) return undefined
    return { achievementName: (await findAchievement(app.sql, credential.achievementId))?.name ?? 'credential' }
  }
  const limits = perMinute(app.config.rateLimits.lookupPerMinute)

  app.get('/notifications/unsubscribe/:id', {
    config: limits,
    schema: {
      summary: 'The unsubscribe link of reminder emails: a confirmation page (HTML)',
      tags: [TAG.emailPreferences],
      params,
      querystring: query,
      response: { 200: htmlPage('A button that confirms (mail scanners follow links: a GET changes nothing)'), 404: htmlPage('The link is not valid') }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const found = await lookup(id, request.query.token)
    if (found === undefined) return sendPage(reply, renderUnsubscribePage(app.config, { state: 'invalid' }), 404)
    return sendPage(reply, renderUnsubscribePage(app.config, { state: 'confirm', achievementName: found.achievementName, action: `/notifications/unsubscribe/${id}?token=${encodeURIComponent(request.query.token ?? '')}` }))
  })

  app.post('/notifications/unsubscribe/:id', {
    config: limits,
    schema: {
      summary: 'Stop reminders for a credential (the page\'s form, or RFC 8058 one-click)',
      tags: [TAG.emailPreferences],
      params,
      querystring: query,
      response: { 200: htmlPage('Done: no more reminders or expiry notices for this credential'), 404: htmlPage('The link is not valid') }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const found = await lookup(id, request.query.token)
    if (found === undefined) return sendPage(reply, renderUnsubscribePage(app.config, { state: 'invalid' }), 404)
    await optOutOfReminders(app.sql, id, app.clock())
    request.log.info({ credentialId: id }, 'holder unsubscribed from reminders')
    return sendPage(reply, renderUnsubscribePage(app.config, { state: 'done', achievementName: found.achievementName }))
  })
}
