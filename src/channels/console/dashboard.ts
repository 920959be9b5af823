import type { FastifyInstance } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { dashboardCounts } from '../../capabilities/back-office/store.js'
import { listAchievements } from '../../capabilities/achievements/store.js'
import { usageChartSvg } from '../../capabilities/usage/chart.js'
import { USAGE_KINDS, type UsageKind } from '../../capabilities/usage/kinds.js'
import { usageSummary } from '../../capabilities/usage/summary.js'
import { ID_PATTERN } from '../../kernel/ids.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage } from '../../infrastructure/http/common-schemas.js'
import { may, sendConsolePage } from './page.js'

/** The words for each counted kind (capabilities/usage/kinds.ts). */
export const USAGE_LABELS: Record<UsageKind, string> = {
  page_view: 'Badge page views',
  verification_api: 'Verifications by API',
  verification_page: 'Verifications on the /verify page',
  verification_image: 'Verifications of a badge image',
  linkedin_click: 'LinkedIn add-to-profile clicks',
  download_json: 'Credential downloads (JSON-LD)',
  download_jwt: 'Credential downloads (VC-JWT)',
  download_pdf: 'Certificate and wallet card downloads',
  download_image: 'Badge image downloads'
}

/**
 * The dashboard: what needs action now, each count a link to the list behind
 * it; and the last 30 days of views, verifications, LinkedIn clicks and
 * downloads (all achievements, or one), as a chart and a table.
 */
export async function dashboardRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.get('/console', {
    config: { scope: 'credentials:read' },
    schema: {
      summary: 'The dashboard: counts that need action, and usage over 30 days',
      tags: [TAG.console],
      querystring: { type: 'object', additionalProperties: false, properties: { achievementId: { type: 'string', anyOf: [{ maxLength: 0 }, { pattern: ID_PATTERN }] } } },
      response: { 200: htmlPage('The dashboard') }
    }
  }, async (request, reply) => {
    const now = app.clock()
    const achievementId = request.query.achievementId === '' ? undefined : request.query.achievementId
    // This instance's counts not yet written go first, so the page is current.
    await app.usageCounts.flush()
    const [counts, usage, achievements] = await Promise.all([
      dashboardCounts(app.sql, now),
      usageSummary(app.sql, { days: 30, now, ...(achievementId !== undefined ? { achievementId } : {}) }),
      listAchievements(app.sql, { limit: 200 })
    ])
    const tiles = [
      { label: 'Badge orders waiting', count: counts.pendingOrders, href: '/console/queues/orders', show: may(request, 'orders:admin') },
      { label: 'Correction requests waiting', count: counts.pendingCorrections, href: '/console/queues/corrections', show: may(request, 'orders:admin') },
      { label: 'Recertification applications waiting', count: counts.pendingApplications, href: '/console/queues/applications', show: may(request, 'recertification:review') },
      { label: 'Failed webhook deliveries', count: counts.failedWebhookDeliveries, href: '/console/admin/webhooks', show: may(request, 'webhooks:admin') },
      { label: 'Badges expiring within 30 days', count: counts.expiringIn30Days, href: '/console/credentials?state=expiring&within=30', show: true },
      { label: 'Badges expiring within 90 days', count: counts.expiringIn90Days, href: '/console/credentials?state=expiring', show: true },
      { label: 'Badges in their grace window', count: counts.inGraceWindow, href: '/console/credentials?state=grace', show: true }
    ].filter((t) => t.show)
    const total = (kinds: readonly UsageKind[]) => (day: { counts: Record<UsageKind, number> }): number => kinds.reduce((sum, k) => sum + day.counts[k], 0)
    const chart = usageChartSvg(usage.series.map((day) => ({ label: day.day, value: total(USAGE_KINDS)(day) })), { title: `Views, verifications, clicks and downloads per day, ${usage.from} to ${usage.to}` })
    return sendConsolePage(request, reply, 'dashboard', {
      title: 'Dashboard',
      tiles,
      usage: {
        chart,
        from: usage.from,
        to: usage.to,
        achievementId: achievementId ?? '',
        achievements: achievements.map((a) => ({ id: a.id, name: a.name })),
        totals: USAGE_KINDS.map((kind) => ({ label: USAGE_LABELS[kind], count: usage.totals[kind] }))
      }
    })
  })
}
