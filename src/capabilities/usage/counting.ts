import type { FastifyInstance } from 'fastify'
import { classify } from './classify.js'
import type { UsageHit } from './kinds.js'
import { addCounts } from './store.js'
import { UsageTally } from './tally.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's usage counts not yet written (capabilities/usage). */
    usageCounts: { flush: () => Promise<void> }
  }
}

/** How often a process writes what it counted: a crash loses at most this much. */
export const FLUSH_EVERY_MS = 5_000

/**
 * Counts page views, verifications, LinkedIn clicks and downloads (issue 25)
 * in one onResponse hook: the route pattern, method and status say what a
 * request was (classify.ts); the count is a map update in memory, written to
 * PostgreSQL in one statement every few seconds and when the app closes.
 * Nothing about the visitor is read beyond the User-Agent (to leave out
 * declared robots), nothing is kept, no cookie is set.
 */
export function installUsageCounting (app: FastifyInstance): void {
  const tally = new UsageTally()
  const base = app.config.publicBaseUrl

  let flushing: Promise<void> = Promise.resolve()
  const flush = async (): Promise<void> => {
    // One flush at a time: a second waits for the first, then writes what came since.
    flushing = flushing.then(async () => {
      const { counts, dropped } = tally.drain()
      if (dropped > 0) app.log.warn({ dropped }, 'usage counts dropped: too many distinct credentials between two flushes')
      try {
        await addCounts(app.sql, counts)
      } catch (error) {
        tally.restore(counts)
        app.log.warn({ err: error, pending: counts.length }, 'usage counts not written; kept for the next flush')
      }
    })
    await flushing
  }
  app.decorate('usageCounts', { flush })

  const timer = setInterval(() => { void flush() }, FLUSH_EVERY_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await flush()
  })

  app.addHook('onResponse', (request, reply, done) => {
    let counted: UsageHit | undefined
    try {
      counted = classify({
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        contentType: header(reply.getHeader('content-type')),
        robots: header(reply.getHeader('x-robots-tag')),
        userAgent: request.headers['user-agent'],
        params: request.params,
        verified: request.verified
      }, base)
    } catch (error) {
      request.log.warn({ err: error }, 'usage not counted')
    }
    if (counted !== undefined) tally.add(counted.credentialId, counted.kind, app.clock().toISOString().slice(0, 10))
    done()
  })
}

const header = (value: unknown): string | undefined => typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : typeof value === 'number' ? String(value) : undefined
