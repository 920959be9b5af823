import type { FastifyInstance } from 'fastify'
import { dashboardCounts } from '../../capabilities/back-office/store.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage } from '../../infrastructure/http/common-schemas.js'
import { may, sendConsolePage } from './page.js'

/** The dashboard: what needs action now, each count a link to the list behind it. */
export async function dashboardRoutes (app: FastifyInstance): Promise<void> {
  app.get('/console', {
    config: { scope: 'credentials:read' },
    schema: { summary: 'The dashboard: counts that need action', tags: [TAG.console], response: { 200: htmlPage('The dashboard'), 303: htmlPage('To the sign-in page when not signed in') } }
  }, async (request, reply) => {
    const counts = await dashboardCounts(app.sql, app.clock())
    const tiles = [
      { label: 'Badge orders waiting', count: counts.pendingOrders, href: '/console/queues/orders', show: may(request, 'orders:admin') },
      { label: 'Correction requests waiting', count: counts.pendingCorrections, href: '/console/queues/corrections', show: may(request, 'orders:admin') },
      { label: 'Recertification applications waiting', count: counts.pendingApplications, href: '/console/queues/applications', show: may(request, 'recertification:review') },
      { label: 'Failed webhook deliveries', count: counts.failedWebhookDeliveries, href: '/console/admin/webhooks', show: may(request, 'webhooks:admin') },
      { label: 'Badges expiring within 30 days', count: counts.expiringIn30Days, href: '/console/credentials?state=expiring&within=30', show: true },
      { label: 'Badges expiring within 90 days', count: counts.expiringIn90Days, href: '/console/credentials?state=expiring', show: true },
      { label: 'Badges in their grace window', count: counts.inGraceWindow, href: '/console/credentials?state=grace', show: true }
    ].filter((t) => t.show)
    return sendConsolePage(request, reply, 'dashboard', { title: 'Dashboard', tiles })
  })
}
