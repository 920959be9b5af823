import { createHash, createPublicKey, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { LRUCache } from 'lru-cache'

/**
 * Memoises the checks that depend only on a document's exact content: the
 * Data Integrity proof set (JSON-LD canonicalisation and the signatures; the
 * keys come from the verification method identifiers themselves), a VC-JWT's
 * signature (by token and key), the signed meaning, and the schema. Keyed by
 * SHA-256 of the content, so a changed byte is a miss. What can change while
 * the content stays the same is never cached: key state (compromise),
 * revocation, validity dates and trust are checked live.
 *
 * Owned by the app that verifies (one per app, dropped with it), bounded in
 * bytes: least recently used results go first. Imported public keys (a JWK
 * import costs more than an RS256 check) are kept beside them.
 */
export class PureCheckCache {
  readonly #results: LRUCache<string, {}, () => Promise<{}>>
  readonly #keys: LRUCache<string, KeyObject>
  hits = 0
  misses = 0

  constructor (maxBytes = 8 * 1024 * 1024) {
    this.#results = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (value, key) => key.length + approximateBytes(value),
      fetchMethod: async (_key, _stale, { context }) => await context(),
      // A result evicted while it is computed still answers the requests waiting for it.
      ignoreFetchAbort: true
    })
    this.#keys = new LRUCache({ maxSize: Math.max(1, Math.floor(maxBytes / 16)), sizeCalculation: (_value, cacheKey) => cacheKey.length + 512 })
  }

  /**
   * SHA-256 (hex) of a document's exact content (a string as is, anything
   * else as its JSON): for a stored document of ours, the hash of its stored
   * text, which PostgreSQL indexes (migration 0021).
   */
  static hashOf (content: unknown): string {
    return createHash('sha256').update(typeof content === 'string' ? content : JSON.stringify(content)).digest('hex')
  }

  /**
   * A check's key: its kind and the content's hash. A verification hashes its
   * document once (hashOf) and keys every check of it from that hash.
   */
  static keyOf (kind: string, content: unknown, contentHash = PureCheckCache.hashOf(content)): string {
    return `${kind}:${contentHash}`
  }

  /** The cached result of `compute` for this key; a failed computation is not kept. */
  async get<T extends {}> (key: string, compute: () => Promise<T>): Promise<T> {
    const status: LRUCache.Status<string, {}> = {}
    const value = await this.#results.fetch(key, { context: compute, status })
    if (status.fetch === 'hit' || status.fetch === 'inflight') this.hits++
    else this.misses++
    return value as T
  }

  /** The public key of a JWK, imported once while it stays in the cache. */
  publicKey (jwk: JWK): KeyObject {
    const cacheKey = jwkIdentity(jwk)
    let key = this.#keys.get(cacheKey)
    if (key === undefined) {
      key = importPublicKey(jwk)
      this.#keys.set(cacheKey, key)
    }
    return key
  }

  clear (): void {
    this.#results.clear()
    this.#keys.clear()
  }
}

const identities = new WeakMap<object, string>()

/**
 * A public JWK's content as a hash, made once per JWK object: the
 * verifier's own keys come from a cache (own-records-cache.ts), so the same
 * object is met on every verification.
 */
export function jwkIdentity (jwk: JWK): string {
  let identity = identities.get(jwk)
  if (identity === undefined) identities.set(jwk, identity = PureCheckCache.hashOf(jwk))
  return identity
}

/** A JWK as a node:crypto public key (a cache may keep it: nothing secret). */
export const importPublicKey = (jwk: JWK): KeyObject => createPublicKey({ key: { ...jwk } as NodeJsonWebKey, format: 'jwk' })

/** A result's size as its JSON (results are small plain data), plus room for the objects around it. */
function approximateBytes (value: unknown): number {
  try {
    return 64 + (JSON.stringify(value)?.length ?? 0)
  } catch {
    return 4096
  }
}

/**
 * `compute`, remembered in `cache` when there is one (the app's); without
 * one, computed every time. `contentHash`: the content's hash when the caller
 * has it already (hashOf), so a document is hashed once per verification.
 */
export async function memoised<T extends {}> (cache: PureCheckCache | undefined, kind: string, content: unknown, compute: () => Promise<T>, contentHash?: string): Promise<T> {
  return cache === undefined ? await compute() : await cache.get(PureCheckCache.keyOf(kind, content, contentHash), compute)
}
