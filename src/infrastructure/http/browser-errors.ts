import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_CONTENT_TYPE, type ProblemDocument } from '../../kernel/errors.js'
import { renderErrorPage } from '../web/error-page.js'
import { negotiate } from './content-negotiation.js'

/**
 * Errors in the representation the client asked for: a person in a browser
 * gets a page with the problem in words and a way back; every other client
 * (an API client, curl with its accept-anything default, no Accept at all) gets the problem document
 * it always got.
 */

/**
 * Whether the client prefers an HTML page to JSON: browsers name text/html
 * first and accept anything else at a lower q. JSON comes first among
 * equals, so an accept-anything range alone (curl, most libraries) and no
 * Accept header mean an API client.
 */
export function prefersHtml (accept: string | undefined): boolean {
  return negotiate(accept, ['application/json', PROBLEM_CONTENT_TYPE, 'text/html']) === 'text/html'
}

/** Adds Accept to Vary: the same error has two representations. */
function varyOnAccept (reply: FastifyReply): void {
  const vary = reply.getHeader('vary')
  const listed = (Array.isArray(vary) ? vary.join(',') : String(vary ?? '')).split(',').map((name) => name.trim().toLowerCase())
  if (listed.includes('accept') || listed.includes('*')) return
  void reply.header('Vary', vary === undefined || vary === '' ? 'Accept' : `${String(vary)}, Accept`)
}

/**
 * Sends a problem: as application/problem+json, or to a browser as the error
 * page with the same status. The status is the problem's own. `allow` lists
 * the methods of a 405 on the page (the Allow header is the caller's).
 */
export function sendError (request: FastifyRequest, reply: FastifyReply, problem: ProblemDocument, allow?: readonly string[]): FastifyReply {
  varyOnAccept(reply)
  if (prefersHtml(request.headers.accept)) {
    const { config } = request.server
    try {
      const html = renderErrorPage({ issuerName: config.issuer.name, logoUrl: config.branding.logoUrl }, {
        status: problem.status,
        title: problem.title,
        detail: problem.detail,
        ...(allow !== undefined ? { allow } : {})
      })
      return reply.code(problem.status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
    } catch (error) {
      // The page is a courtesy: the problem document still says everything.
      request.log.error({ err: error }, 'error page failed to render')
    }
  }
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem)
}
