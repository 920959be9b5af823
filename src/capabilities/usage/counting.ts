import type { FastifyInstance, FastifyRequest } from 'fastify'
import { readSubmittedImage } from '../verification/read-submitted.js'
import { classify, credentialIdOf } from './classify.js'
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

/** What a person submitted on the /verify page, seen as the page's handler reads it. */
interface SubmittedForm { pasted?: string, image?: Buffer }

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
  const forms = new WeakMap<FastifyRequest, SubmittedForm>()

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

  // The /verify page reads its multipart form in its handler; what it read is
  // observed on the way (the parts are handed on untouched), to know which credential was checked.
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === '/verify' && typeof request.parts === 'function') observeForm(request, forms)
    done()
  })

  app.addHook('onResponse', (request, reply, done) => {
    let counted: UsageHit | undefined
    try {
      counted = request.routeOptions.url === '/verify'
        ? verifyPageHit(forms.get(request), reply.statusCode, base)
        : classify({
          method: request.method,
          route: request.routeOptions.url,
          status: reply.statusCode,
          contentType: header(reply.getHeader('content-type')),
          robots: header(reply.getHeader('x-robots-tag')),
          userAgent: request.headers['user-agent'],
          requestContentType: request.headers['content-type'],
          params: request.params,
          body: request.body
        }, base)
    } catch (error) {
      request.log.warn({ err: error }, 'usage not counted')
    }
    if (counted !== undefined) tally.add(counted.credentialId, counted.kind, app.clock().toISOString().slice(0, 10))
    done()
  })
}

const header = (value: unknown): string | undefined => typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : typeof value === 'number' ? String(value) : undefined

function observeForm (request: FastifyRequest, forms: WeakMap<FastifyRequest, SubmittedForm>): void {
  const seen: SubmittedForm = {}
  forms.set(request, seen)
  const parts = request.parts.bind(request)
  request.parts = function (...args: Parameters<typeof parts>) {
    const inner = parts(...args)
    return (async function * () {
      for await (const part of inner) {
        if (part.type === 'file') {
          const toBuffer = part.toBuffer.bind(part)
          part.toBuffer = async () => {
            const bytes = await toBuffer()
            if (bytes.length > 0) seen.image = bytes
            return bytes
          }
        } else if (part.fieldname === 'credential' && typeof part.value === 'string') {
          seen.pasted = part.value
        }
        yield part
      }
    })() as ReturnType<typeof parts>
  }
}

/** A /verify page submission that was examined (200 valid, 422 not valid), by what was submitted. */
function verifyPageHit (form: SubmittedForm | undefined, status: number, base: string): UsageHit | undefined {
  if (form === undefined || (status !== 200 && status !== 422)) return undefined
  if (form.image !== undefined) {
    const id = credentialIdOf(readSubmittedImage(form.image), base)
    return id === undefined ? undefined : { credentialId: id, kind: 'verification_image' }
  }
  const pasted = form.pasted?.trim() ?? ''
  let credential: unknown = pasted
  if (pasted.startsWith('{')) credential = JSON.parse(pasted) as unknown
  const id = credentialIdOf(credential, base)
  return id === undefined ? undefined : { credentialId: id, kind: 'verification_page' }
}
