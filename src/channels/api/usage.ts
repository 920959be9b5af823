import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../kernel/errors.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { nullableString } from '../../infrastructure/http/common-schemas.js'
import { USAGE_KINDS } from '../../capabilities/usage/kinds.js'
import { usageSummary } from '../../capabilities/usage/summary.js'

const day = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'A UTC day, YYYY-MM-DD' } as const

const usageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    achievementId: { type: 'string', pattern: ID_PATTERN, description: 'Only this achievement\'s badges' },
    credentialId: { type: 'string', pattern: ID_PATTERN, description: 'Only this badge (credential)' },
    from: { ...day, description: 'First day (inclusive); default: `days` days before `to`' },
    to: { ...day, description: 'Last day (inclusive); default: today (UTC)' },
    days: { type: 'integer', minimum: 1, maximum: 366, default: 30, description: 'The period\'s length when `from` is not given' }
  }
} as const

const totals = {
  type: 'object',
  additionalProperties: false,
  required: [...USAGE_KINDS],
  properties: Object.fromEntries(USAGE_KINDS.map((kind) => [kind, { type: 'integer', minimum: 0 }])) as Record<(typeof USAGE_KINDS)[number], { type: 'integer', minimum: 0 }>
} as const

const usageAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to', 'achievementId', 'credentialId', 'totals', 'series'],
  properties: {
    from: day,
    to: day,
    achievementId: nullableString,
    credentialId: nullableString,
    totals: { ...totals, description: 'Per kind over the period: page_view (the holder page as HTML), verification_api|page|image (by how the credential reached the verifier), linkedin_click (the counted "Add to profile" redirect), download_json|jwt|pdf|image' },
    series: {
      type: 'array',
      description: 'Every day of the period, in order, zeros included',
      items: { type: 'object', additionalProperties: false, required: ['day', 'counts'], properties: { day, counts: totals } }
    }
  }
} as const

/** Staff routes: the counts that matter to the body, per achievement and per badge (issue 25). */
export async function usageRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.get('/usage', {
    schema: {
      summary: 'Page views, verifications by channel, LinkedIn clicks and downloads: totals and a per-day series',
      description: 'Counted without visitors\' addresses or cookies; declared robots are left out of page views, clicks and downloads. Counts reach the database every few seconds; this process\'s pending ones are written before answering.',
      tags: [TAG.staffCredentials],
      querystring: usageQuery,
      response: { 200: { description: 'The counts of the period', ...usageAnswer } }
    },
    config: { scope: 'credentials:read' }
  }, async (request) => {
    const q = request.query
    await app.usageCounts.flush()
    try {
      return await usageSummary(app.sql, {
        now: app.clock(),
        days: q.days ?? 30,
        ...(q.achievementId !== undefined ? { achievementId: q.achievementId } : {}),
        ...(q.credentialId !== undefined ? { credentialId: q.credentialId } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {})
      })
    } catch (error) {
      if (error instanceof RangeError) throw new AppError('validation_failed', error.message)
      throw error
    }
  })
}
