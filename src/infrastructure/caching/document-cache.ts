import { LRUCache } from 'lru-cache'

/** How long a served document is kept at most (DocumentCache). */
export const DOCUMENT_TTL_MS = 60_000

/**
 * An in-memory LRU of served documents (signed credentials, status lists),
 * bounded in bytes, so that a hot GET does not go to PostgreSQL. Owned by the
 * app that serves them. Entries are dropped when the change feed
 * (change-feed.ts) says their row changed; the generation counter closes the
 * race where a read that started before a change would store the old value
 * after the change was announced. A document over an eighth of the budget is
 * served but not kept.
 *
 * Every entry also expires after a minute, as a safety net: a change whose
 * notification is lost (a feed that reconnects is reset, but a bug or a write
 * that forgot to announce is not) heals within that bound instead of never.
 */
export class DocumentCache<V extends { bytes: number }> {
  readonly #entries: LRUCache<string, V>
  #generation = 0

  /** `ttlMs`: how long an entry may be served at most, even if no change is heard of (default 60 s). */
  constructor (maxBytes: number, ttlMs = DOCUMENT_TTL_MS) {
    this.#entries = new LRUCache<string, V>({
      ttl: ttlMs,
      maxSize: maxBytes,
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 8)),
      sizeCalculation: (value) => Math.max(1, value.bytes)
    })
  }

  get size (): number { return this.#entries.size }
  get totalBytes (): number { return this.#entries.calculatedSize }

  /** The cached value, or what `load` reads (cached unless the key changed meanwhile). */
  async read (key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.#entries.get(key)
    if (hit !== undefined) return hit
    const generation = this.#generation
    const value = await load()
    if (value !== undefined && generation === this.#generation) this.#entries.set(key, value)
    return value
  }

  invalidate (key: string): void {
    this.#generation++
    this.#entries.delete(key)
  }

  /** Everything (the change feed reconnected: changes may have been missed). */
  clear (): void {
    this.#generation++
    this.#entries.clear()
  }
}
