import { isObject } from '../../../kernel/json.js'
import { OutboundFetchError, type FetchLimits, type HttpCache } from '../../../infrastructure/outbound/http-cache.js'

/**
 * How one verification reaches other issuers' servers: through the app's
 * HttpCache (one outbound client, Cache-Control/ETag, per-host concurrency),
 * with a deadline and size cap per kind of document and a budget of network
 * requests per verification (cache hits are free). The numbers fit inside the
 * verification's own 5 s budget (LIMITS.timeBudgetMs).
 */
export const FOREIGN_LIMITS = {
  /**
   * Network requests one verification may make: a key and its controller
   * document, a JWK set, and a status list with its own signing key, twice
   * over (two proofs or two status entries), is 8.
   */
  fetchesPerVerification: 8,
  /** DID documents, controller documents, verification methods, JWK sets: a few KiB in practice. */
  key: { timeoutMs: 3_000, maxBytes: 64 * 1024, accept: 'application/did+json, application/did+ld+json, application/ld+json, application/jwk-set+json, application/json;q=0.9' },
  /** Status list credentials: the minimum 131,072-entry list is 16 KiB before gzip; 512 KiB leaves room for 4 M entries that compress badly. */
  statusList: { timeoutMs: 4_000, maxBytes: 512 * 1024, accept: 'application/vc+ld+json, application/vc, application/ld+json, application/vc+jwt, application/json;q=0.9' }
} as const satisfies Record<string, FetchLimits | number>

export type ForeignKind = 'key' | 'statusList'

/** A document that could not be had (unreachable, refused, too slow, too big, over budget): the verdict is unknown, never valid. */
export class ForeignUnavailable extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ForeignUnavailable'
  }
}

export interface ForeignFetcher {
  /** The JSON object at `url` (no fragment), or ForeignUnavailable. */
  json: (url: string, kind: ForeignKind) => Promise<{ document: Record<string, unknown>, text: string }>
  /** Network requests made so far by this verification. */
  readonly requests: number
}

/** A fetcher for one verification: its own budget over the app's shared cache. */
export function foreignFetcher (cache: HttpCache, budget: number = FOREIGN_LIMITS.fetchesPerVerification): ForeignFetcher {
  let requests = 0
  const spend = (url: string) => (): void => {
    if (requests >= budget) throw new OutboundFetchError('budget', url, `${url} was not fetched: this verification already made ${budget} requests to other servers, its limit`)
    requests += 1
  }
  return {
    get requests () { return requests },
    json: async (url, kind) => {
      let text: string
      try {
        text = (await cache.get(url, FOREIGN_LIMITS[kind], spend(url))).body.toString('utf8')
      } catch (error) {
        if (error instanceof OutboundFetchError) throw new ForeignUnavailable(error.message)
        throw error
      }
      let document: unknown
      try {
        document = JSON.parse(text)
      } catch {
        throw new ForeignUnavailable(`${url} did not answer JSON`)
      }
      if (!isObject(document)) throw new ForeignUnavailable(`${url} did not answer a JSON object`)
      return { document, text }
    }
  }
}
