import type { HttpCache } from '../../../infrastructure/outbound/http-cache.js'
import { resolveForeignVerificationMethod, type ForeignKeyResolution } from './controller-document.js'
import { foreignFetcher, FOREIGN_LIMITS, ForeignUnavailable } from './foreign-fetcher.js'
import { resolveForeignJwtKey } from './jwt-key.js'

/**
 * What the verifier may ask of other issuers' servers during one
 * verification, each call through the app's HttpCache and counted against
 * the verification's budget (FOREIGN_LIMITS.fetchesPerVerification). Every
 * "cannot have it" is an answer the steps turn into `unknown`
 * (indeterminate), never into "not revoked" or a trusted key.
 */
export interface ForeignResolvers {
  /** An https or did:web verification method (Data Integrity), dereferenced. */
  findForeignKey: (verificationMethod: string) => Promise<ForeignKeyResolution>
  /** A VC-JWT's key from its `kid` (controller document, the kid URL's JWK set, or the issuer's own well-known JWK set). */
  findForeignJwtKey: (kid: string, issuer: string | undefined) => Promise<ForeignKeyResolution>
  /** A status list credential or 1EdTech revocation list, as JSON; throws ForeignUnavailable with the reason. */
  fetchStatusDocument: (url: string) => Promise<Record<string, unknown>>
  /** Network requests made so far (cache hits are free). */
  readonly requests: number
}

/** A factory of per-verification resolvers over one app's cache. */
export function foreignResolvers (cache: HttpCache, allowLoopback: boolean, budget: number = FOREIGN_LIMITS.fetchesPerVerification): () => ForeignResolvers {
  return () => {
    const fetcher = foreignFetcher(cache, budget)
    return {
      get requests () { return fetcher.requests },
      findForeignKey: async (verificationMethod) => await resolveForeignVerificationMethod(verificationMethod, fetcher, allowLoopback),
      findForeignJwtKey: async (kid, issuer) => await resolveForeignJwtKey(kid, issuer, fetcher, allowLoopback),
      fetchStatusDocument: async (url) => {
        if (url.includes('#')) throw new ForeignUnavailable(`the status list URL ${url} has a fragment`)
        return (await fetcher.json(url, 'statusList')).document
      }
    }
  }
}
