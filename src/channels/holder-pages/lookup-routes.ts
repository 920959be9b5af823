import formBody from '@fastify/formbody'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../kernel/errors.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage, nullableTimestamp, problemResponse } from '../../infrastructure/http/common-schemas.js'
import { negotiate } from '../../infrastructure/http/content-negotiation.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { lookupCredential, type LookupAnswer } from '../../capabilities/lookup/find-credential.js'
import { renderSitePage, sendPage } from '../../capabilities/presentation/pages.js'
import { shareRoutes } from './share-routes.js'

const lookupBody = {
  examples: [{ number: 'Xq3vN8kPz1LmRt5w', lastName: 'Assistant' }],
  type: 'object',
  additionalProperties: false,
  properties: {
    number: { type: 'string', maxLength: 300, description: 'The certificate number: the credential id (as printed on the certificate, the wallet card and LinkedIn), or the credential\'s URL (a version URL answers "superseded" when replaced)' },
    lastName: { type: 'string', maxLength: 200, description: 'The holder\'s last name: compared case-, accent- and punctuation-insensitively with the last word(s) of the holder\'s current name' }
  }
} as const

const lookupAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['found', 'status', 'currentStatus', 'url', 'achievementName', 'validUntil', 'askedVersion', 'currentVersion'],
  properties: {
    found: { type: 'boolean', const: true },
    status: { type: 'string', enum: ['valid', 'expired', 'revoked', 'superseded'], description: 'Of what the number named: superseded when it named a version a later one replaced' },
    currentStatus: { type: 'string', enum: ['valid', 'expired', 'revoked'], description: 'Of the current version (what "superseded" leads to)' },
    url: { type: 'string', description: 'The credential\'s page (the current version)' },
    achievementName: { type: 'string' },
    validUntil: nullableTimestamp,
    askedVersion: { type: ['integer', 'null'], description: 'The version named, when not the current one' },
    currentVersion: { type: 'integer' }
  }
} as const

const pageOrProblem = (status: 400 | 404, page: string, problem: string): { description: string, content: Record<string, unknown> } =>
  ({ description: `${page} (HTML), or ${problem} (problem+json)`, content: { ...htmlPage('').content, ...problemResponse(status).content } })

const BANNERS: Record<LookupAnswer['status'], { tone: string, label: string, text: (a: LookupAnswer) => string }> = {
  valid: { tone: 'valid', label: 'Valid', text: (a) => `This certification is current${a.validUntil === null ? '' : ` until ${longDate(a.validUntil) ?? ''}`}.` },
  expired: { tone: 'expired', label: 'Expired', text: (a) => `This certification expired on ${longDate(a.validUntil ?? undefined) ?? 'its end date'}.` },
  revoked: { tone: 'revoked', label: 'Revoked', text: () => 'This certification was revoked by the issuer: it is no longer valid.' },
  superseded: { tone: 'superseded', label: 'Replaced by a newer version', text: (a) => `The version numbered ${a.askedVersion ?? ''} was replaced; the current version is ${a.currentStatus === 'valid' ? 'valid' : a.currentStatus}.` }
}

const wantsJson = (request: FastifyRequest): boolean =>
  (request.headers['content-type'] ?? '').startsWith('application/json') ||
  negotiate(request.headers.accept, ['text/html', 'application/json']) === 'application/json'

/**
 * The public employer lookup (issue 25): a certification by its number and
 * the holder's last name, both required, exact matches only, limited per
 * address; an unknown number, a wrong name and a credential its holder made
 * private all answer the same "no match". Also /credentials/:id/share/linkedin.
 */
export async function lookupRoutes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(formBody, { bodyLimit: 4 * 1024 })
  await fastify.register(shareRoutes)
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const page = (data: Record<string, unknown>): string => renderSitePage('lookup', app.config, {
    title: 'Check a certification',
    description: `Check a certification issued by ${app.config.issuer.name}, by certificate number and last name.`,
    ...data
  })

  app.get('/lookup', {
    schema: { summary: 'The employer lookup form (HTML)', tags: [TAG.verification], response: { 200: htmlPage('The form: certificate number and last name') } }
  }, async (_request, reply) => sendPage(reply, page({})))

  app.post('/lookup', {
    config: perMinute(app.config.rateLimits.formsPerMinute),
    schema: {
      summary: 'Look a certification up by certificate number and last name (form or JSON)',
      description: 'Answers HTML for the form (application/x-www-form-urlencoded), JSON when the body is JSON or Accept prefers application/json. Rate-limited per address (RATE_LIMIT_FORMS_PER_MINUTE).',
      tags: [TAG.verification],
      body: lookupBody,
      response: {
        200: { description: 'A match: the status and link', content: { ...htmlPage('').content, 'application/json': { schema: lookupAnswer } } },
        400: pageOrProblem(400, 'The form again, naming the missing field', '"validation_failed"'),
        404: pageOrProblem(404, 'The form again, saying nothing matched', '"not_found"')
      }
    }
  }, async (request, reply): Promise<FastifyReply> => {
    const json = wantsJson(request)
    const number = request.body?.number?.trim() ?? ''
    const lastName = request.body?.lastName?.trim() ?? ''
    const missing = [number === '' ? 'number' : undefined, lastName === '' ? 'lastName' : undefined].filter((f): f is string => f !== undefined)
    if (missing.length > 0) {
      const message = missing.length === 2
        ? 'Enter the certificate number and the holder\'s last name: both are needed.'
        : missing[0] === 'number' ? 'Enter the certificate number: both it and the last name are needed.' : 'Enter the holder\'s last name: both it and the certificate number are needed.'
      if (json) throw new AppError('validation_failed', `${missing.map((f) => `"${f}"`).join(' and ')} ${missing.length === 2 ? 'are' : 'is'} required. ${message}`)
      return sendPage(reply, page({ number, lastName, missing, error: message }), 400)
    }
    const answer = await lookupCredential(app.sql, { number, lastName }, { urls: app.urls, now: app.clock() })
    if (answer === undefined) {
      if (json) throw new AppError('not_found', 'No certification matches this number and last name.')
      return sendPage(reply, page({ number, lastName, noMatch: true }), 404)
    }
    if (json) return await reply.code(200).type('application/json; charset=utf-8').send({ found: true, ...answer })
    const banner = BANNERS[answer.status]
    return sendPage(reply, page({
      number,
      lastName,
      answer: { ...answer, tone: banner.tone, label: banner.label, text: banner.text(answer), validUntil: longDate(answer.validUntil ?? undefined), url: new URL(answer.url).pathname }
    }))
  })
}
