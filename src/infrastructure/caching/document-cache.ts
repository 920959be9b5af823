import { LRUCache } from 'lru-cache'

/**
 * An in-memory LRU of served documents (signed credentials, status lists),
 * bounded in bytes, so that a hot GET does not go to PostgreSQL. Owned by the
 * app that serves them. Entries are dropped when the change feed
 * (change-feed.ts) says their row changed; the generation counter closes the
 * race where a read that started before a change would store the old value
 * after the change was announced. A document over an eighth of the budget is
 * served but not kept.
 */
export class DocumentCache<V extends { bytes: number }> {
  readonly #entries: LRUCache<string, V>
  #generation = 0

  constructor (maxBytes: number) {
    this.#entries = new LRUCache<string, V>({
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
