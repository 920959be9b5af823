import { createHash } from 'node:crypto'

/**
 * Memoises the checks that depend only on a document's exact content: the
 * Data Integrity proof set (JSON-LD canonicalisation and the signatures; the
 * keys come from the verification method identifiers themselves), a VC-JWT's
 * signature (by token and key), the signed meaning, and the schema. Keyed by
 * SHA-256 of the content, so a changed byte is a miss. What can change while
 * the content stays the same is never cached: key state (compromise),
 * revocation, validity dates and trust are checked live.
 * Bounded: least recently used entries go first.
 */
export class PureCheckCache {
  private readonly entries = new Map<string, Promise<unknown>>()
  hits = 0
  misses = 0

  constructor (private readonly capacity = 5000) {}

  static keyOf (kind: string, content: unknown): string {
    return createHash('sha256').update(kind).update('\u0000').update(typeof content === 'string' ? content : JSON.stringify(content)).digest('base64url')
  }

  /** The cached result of `compute` for this key; a failed computation is not kept. */
  async get<T> (key: string, compute: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key)
    if (cached !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, cached)
      this.hits++
      return await (cached as Promise<T>)
    }
    this.misses++
    const pending = compute()
    this.entries.set(key, pending)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string)
    pending.catch(() => { this.entries.delete(key) })
    return await pending
  }

  clear (): void {
    this.entries.clear()
  }
}

/** One cache per process: verification is the same function everywhere. */
export const pureCheckCache = new PureCheckCache()
