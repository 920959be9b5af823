import type { lookup } from 'node:dns/promises'
import { LRUCache } from 'lru-cache'
import { cachePolicy } from './cache-control.js'
import { isFetchableScheme, outboundRequest, OutboundRefused, type OutboundForTests } from './outbound.js'

/**
 * GETs of public documents (other issuers' keys, DID documents, status lists)
 * through the one outbound client (outbound.ts: address policy, pinning,
 * deadline, size cap, no redirects), kept as `Cache-Control` and `ETag` allow
 * (cache-control.ts), with at most `perHost` requests in flight to one host.
 *
 * Written here rather than taken from undici's cache interceptor: undici is a
 * second HTTP stack (its Agent can pin through `connect.lookup`, but the
 * address policy, the whole-exchange deadline and the per-call size cap
 * would then live twice, beside node:http for webhooks and pasted links), and
 * its cache reports no hit or miss the verifier could log. This is about the
 * size of the glue the interceptor would have needed.
 *
 * A stale entry is never served when its revalidation fails: an unreachable
 * status list is unreachable, not "as it was", which the verifier reports as
 * indeterminate (fail closed).
 */

export interface FetchLimits {
  timeoutMs: number
  maxBytes: number
  accept: string
}

export type FetchFailure = 'unresolvable' | 'private-address' | 'too-large' | 'timeout' | 'unreachable' | 'not-https' | 'redirect' | 'http-status' | 'budget'

/** Why a document could not be had; `message` is a sentence for a verification result. */
export class OutboundFetchError extends Error {
  constructor (readonly reason: FetchFailure, readonly url: string, message: string) {
    super(message)
    this.name = 'OutboundFetchError'
  }
}

export interface CachedAnswer {
  body: Buffer
  contentType: string | undefined
  /** 'cache': no request made; 'revalidated': a 304 confirmed the stored body; 'network': fetched. */
  from: 'cache' | 'revalidated' | 'network'
}

interface Entry { body: Buffer, contentType: string | undefined, freshUntil: number, etag?: string, lastModified?: string }

export interface HttpCacheOptions {
  /** OUTBOUND_ALLOW_LOOPBACK: http://localhost, 127.0.0.1 and [::1] may be fetched. */
  allowLoopback: boolean
  /** Bytes of bodies kept, all entries together. */
  maxBytes?: number
  /** Freshness ceiling: whatever an issuer says, a list or key is asked again after this long. */
  maxFreshSeconds?: number
  /** Requests in flight to one host; the rest wait their turn (inside their deadline). */
  perHost?: number
  /** Milliseconds now: freshness is measured on it. */
  now?: () => number
  log?: { debug: (details: object, message: string) => void }
  resolveName?: typeof lookup
  /** Tests only: loopback stand-ins for named public hosts (see OutboundForTests). */
  forTests?: OutboundForTests
}

export const HTTP_CACHE_DEFAULTS = { maxBytes: 8 * 1024 * 1024, maxFreshSeconds: 3600, perHost: 4 }

const REFUSALS: Record<OutboundRefused['reason'], (host: string, limits: FetchLimits) => string> = {
  unresolvable: (host) => `the host "${host}" could not be found`,
  'private-address': (host) => `the host "${host}" is on a private or local network; only public addresses are fetched`,
  'too-large': (_, limits) => `the answer is larger than ${limits.maxBytes / 1024} KiB`,
  timeout: (_, limits) => `no answer within ${limits.timeoutMs / 1000} s`
}

export class HttpCache {
  private readonly entries: LRUCache<string, Entry>
  private readonly inFlight = new Map<string, Promise<CachedAnswer>>()
  private readonly hosts = new Map<string, { active: number, waiting: Array<() => void> }>()
  private readonly options: Required<Omit<HttpCacheOptions, 'log' | 'resolveName' | 'forTests'>> & Pick<HttpCacheOptions, 'log' | 'resolveName' | 'forTests'>

  constructor (options: HttpCacheOptions) {
    this.options = { ...HTTP_CACHE_DEFAULTS, now: Date.now, ...options }
    this.entries = new LRUCache({ maxSize: this.options.maxBytes, sizeCalculation: (entry, url) => entry.body.length + url.length + 256 })
  }

  /**
   * The body at `url` (https, or loopback http under the development switch),
   * from the cache while fresh, else fetched or revalidated. `beforeRequest`
   * runs before anything goes to the network (a verification's fetch budget).
   * Throws OutboundFetchError for anything but a 200 (or a 304 on a stored body).
   */
  async get (raw: string, limits: FetchLimits, beforeRequest: () => void = () => {}): Promise<CachedAnswer> {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new OutboundFetchError('not-https', raw, `"${raw}" is not a URL`)
    }
    if (!isFetchableScheme(url, this.options.allowLoopback)) throw new OutboundFetchError('not-https', raw, `"${raw}" is not an https URL`)
    if (url.username !== '' || url.password !== '') throw new OutboundFetchError('not-https', raw, `"${raw}" carries a user name or password`)
    url.hash = ''
    const key = url.href
    const stored = this.entries.get(key)
    if (stored !== undefined && stored.freshUntil > this.options.now()) {
      this.options.log?.debug({ url: key, cache: 'hit' }, 'outbound cache hit')
      return { body: stored.body, contentType: stored.contentType, from: 'cache' }
    }
    // Two verifications asking for the same list at once share one request.
    const pending = this.inFlight.get(key)
    if (pending !== undefined) return await pending
    beforeRequest()
    const request = this.fetch(url, limits, stored).finally(() => { this.inFlight.delete(key) })
    this.inFlight.set(key, request)
    return await request
  }

  private async fetch (url: URL, limits: FetchLimits, stored: Entry | undefined): Promise<CachedAnswer> {
    const key = url.href
    const started = this.options.now()
    const validators: Record<string, string> = {}
    if (stored?.etag !== undefined) validators['if-none-match'] = stored.etag
    if (stored?.lastModified !== undefined) validators['if-modified-since'] = stored.lastModified
    const answer = await this.withHostSlot(url, limits, async (remainingMs) => {
      try {
        return await outboundRequest({
          url,
          method: 'GET',
          headers: { accept: limits.accept, 'user-agent': 'Tessera verifier', ...validators },
          timeoutMs: remainingMs,
          maxBytes: limits.maxBytes,
          tooLarge: 'refuse',
          allowLoopback: this.options.allowLoopback,
          ...(this.options.resolveName !== undefined ? { resolveName: this.options.resolveName } : {}),
          ...(this.options.forTests !== undefined ? { forTests: this.options.forTests } : {})
        })
      } catch (error) {
        if (error instanceof OutboundRefused) throw new OutboundFetchError(error.reason, key, `${key} could not be fetched: ${REFUSALS[error.reason](error.host, limits)}`)
        throw new OutboundFetchError('unreachable', key, `${key} could not be fetched: ${error instanceof Error ? error.message : String(error)}`)
      }
    })
    const policy = cachePolicy(answer.headers, this.options.maxFreshSeconds)
    const freshUntil = started + policy.freshSeconds * 1000
    if (answer.status === 304 && stored !== undefined) {
      const refreshed: Entry = { ...stored, freshUntil, ...(policy.etag !== undefined ? { etag: policy.etag } : {}) }
      if (policy.storable) this.entries.set(key, refreshed)
      else this.entries.delete(key)
      this.options.log?.debug({ url: key, cache: 'revalidated' }, 'outbound cache revalidated (304)')
      return { body: stored.body, contentType: stored.contentType, from: 'revalidated' }
    }
    if (answer.status >= 300 && answer.status < 400) throw new OutboundFetchError('redirect', key, `${key} redirects elsewhere (HTTP ${answer.status}); redirects are not followed`)
    if (answer.status !== 200) throw new OutboundFetchError('http-status', key, `${key} answered HTTP ${answer.status}`)
    const contentType = answer.headers['content-type']
    // Worth keeping when it is fresh for a while or can be revalidated cheaply.
    const keep = policy.storable && (policy.freshSeconds > 0 || policy.etag !== undefined || policy.lastModified !== undefined)
    if (keep) {
      this.entries.set(key, {
        body: answer.body,
        contentType,
        freshUntil,
        ...(policy.etag !== undefined ? { etag: policy.etag } : {}),
        ...(policy.lastModified !== undefined ? { lastModified: policy.lastModified } : {})
      })
    } else this.entries.delete(key)
    return { body: answer.body, contentType, from: 'network' }
  }

  /** Runs `call` once fewer than `perHost` requests to this host are in flight; the wait counts against the deadline. */
  private async withHostSlot<T> (url: URL, limits: FetchLimits, call: (remainingMs: number) => Promise<T>): Promise<T> {
    const host = url.host
    const slot = this.hosts.get(host) ?? { active: 0, waiting: [] }
    this.hosts.set(host, slot)
    const deadline = Date.now() + limits.timeoutMs
    if (slot.active >= this.options.perHost) {
      const admitted = await new Promise<boolean>((resolve) => {
        const turn = (): void => { clearTimeout(timer); resolve(true) }
        const timer = setTimeout(() => { slot.waiting.splice(slot.waiting.indexOf(turn), 1); resolve(false) }, limits.timeoutMs)
        slot.waiting.push(turn)
      })
      if (!admitted) throw new OutboundFetchError('timeout', url.href, `${url.href} could not be fetched: no answer within ${limits.timeoutMs / 1000} s (too many requests to ${host} at once)`)
    }
    slot.active += 1
    try {
      return await call(Math.max(1, deadline - Date.now()))
    } finally {
      slot.active -= 1
      const next = slot.waiting.shift()
      if (next !== undefined) next()
      else if (slot.active === 0) this.hosts.delete(host)
    }
  }
}
