import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { notFound } from '../../kernel/errors.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { noBody, problems, sendNoBody } from '../../infrastructure/http/common-schemas.js'
import { idParams } from '../../infrastructure/http/id-params.js'
import { loadHolderView } from '../../capabilities/presentation/holder-view.js'
import { linkedInAddToProfileUrl } from '../../capabilities/presentation/share-links.js'

/**
 * The holder page's "Add to LinkedIn profile" link goes through here, so the
 * click is counted (capabilities/usage) before the browser is sent on to
 * LinkedIn's form, filled in exactly as the direct link would be.
 */
export async function shareRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/credentials/:id/share/linkedin', {
    config: perMinute(app.config.rateLimits.lookupPerMinute),
    schema: {
      summary: 'Add the credential to a LinkedIn profile: a redirect to LinkedIn\'s form, counted as a click',
      tags: [TAG.credentials],
      params: idParams,
      response: { 303: noBody('To LinkedIn\'s "Add to profile" form', { Location: { type: 'string', description: 'https://www.linkedin.com/profile/add?…' } }), ...problems(404) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const view = await loadHolderView({ sql: app.sql, urls: app.urls, config: app.config, verifier: app.verifier, now: app.clock() }, id)
    if (view === undefined) throw notFound(`Credential "${id}"`)
    const { fields } = view
    const organizationId = app.config.branding.linkedInOrganizationId
    const target = linkedInAddToProfileUrl({
      credentialUrl: app.urls.credential(id),
      credentialId: id,
      achievementName: fields.achievement.name,
      issuerName: fields.issuerName,
      ...(organizationId !== undefined ? { linkedInOrganizationId: organizationId } : {}),
      ...(fields.issued !== undefined ? { issued: fields.issued } : {}),
      ...(fields.validUntil !== undefined ? { expires: fields.validUntil } : {})
    })
    return await sendNoBody(reply.header('Location', target).header('Cache-Control', 'no-store'), 303)
  })
}
