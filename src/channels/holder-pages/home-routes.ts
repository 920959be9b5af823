import type { FastifyInstance } from 'fastify'
import { renderSitePage, sendPage } from '../../capabilities/presentation/pages.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, problems } from '../../infrastructure/http/common-schemas.js'
import { negotiate } from '../../infrastructure/http/content-negotiation.js'
import { AppError } from '../../kernel/errors.js'

const link = { type: 'string', format: 'uri' } as const

/** The service's front door, for API clients: who issues here and where things are. */
const serviceIndex = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'links'],
  properties: {
    issuer: { type: 'object', additionalProperties: false, required: ['id', 'name'], properties: { id: { ...link, description: 'The issuer\'s Profile' }, name: { type: 'string' } } },
    links: {
      type: 'object',
      additionalProperties: false,
      required: ['verify', 'account', 'openapi', 'docs'],
      properties: {
        verify: { ...link, description: 'The public verify page; the API is POST /credentials/verify' },
        account: { ...link, description: 'My badges: the holders\' portal' },
        openapi: { ...link, description: 'This API\'s OpenAPI 3.1 document' },
        docs: { ...link, description: 'The browsable API reference' }
      }
    }
  }
} as const

/**
 * The site's root. A person who types the bare address gets a page that says
 * whose service this is and leads to the verify page and My badges; an API
 * client gets the same as links (JSON first among equals, as for errors).
 */
export async function homeRoutes (app: FastifyInstance): Promise<void> {
  app.get('/', {
    schema: {
      summary: 'The home page (HTML), or the service\'s links (JSON), by Accept',
      tags: [TAG.operations],
      response: {
        200: { description: 'The home page for a browser; the issuer and the service\'s links for any other client', content: { 'text/html': htmlPage('').content['text/html']!, 'application/json': { schema: serviceIndex } } },
        ...problems(406)
      }
    }
  }, async (request, reply) => {
    void reply.header('Vary', 'Accept')
    const type = negotiate(request.headers.accept, ['application/json', 'text/html'])
    if (type === undefined) throw new AppError('not_acceptable', 'The home page is available as application/json or text/html.')
    if (type === 'text/html') {
      return sendPage(reply, renderSitePage('home', app.config, { title: app.config.issuer.name, heading: app.config.issuer.name, description: `Verify ${app.config.issuer.name} credentials, or see your own badges.` }))
    }
    const base = app.urls.base
    return await reply.type('application/json; charset=utf-8').send({
      issuer: { id: app.urls.issuer(app.config.issuer.id), name: app.config.issuer.name },
      links: { verify: `${base}/verify`, account: `${base}/account`, openapi: `${base}/openapi.json`, docs: `${base}/docs` }
    })
  })
}
