/**
 * An in-memory LRU of served documents (signed credentials, status lists),
 * bounded in bytes, so that a hot GET does not go to PostgreSQL. Entries are
 * dropped when the change feed (change-feed.ts) says their row changed; the
 * generation counter closes the race where a read that started before a
 * change would store the old value after the change was announced.
 */
export class DocumentCache<V extends { bytes: number }> {
  private readonly entries = new Map<string, V>()
  private generation = 0
  private bytes = 0

  constructor (private readonly maxBytes: number) {}

  get size (): number { return this.entries.size }
  get totalBytes (): number { return this.bytes }

  /** The cached value, or what `load` reads (cached unless the key changed meanwhile). */
  async read (key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      // Most recently used last: Map iteration order is insertion order.
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    const generation = this.generation
    const value = await load()
    if (value !== undefined && generation === this.generation) this.store(key, value)
    return value
  }

  invalidate (key: string): void {
    this.generation++
    this.remove(key)
  }

  /** Everything (the change feed reconnected: changes may have been missed). */
  clear (): void {
    this.generation++
    this.entries.clear()
    this.bytes = 0
  }

  private store (key: string, value: V): void {
    if (value.bytes > this.maxBytes / 8) return
    this.remove(key)
    this.entries.set(key, value)
    this.bytes += value.bytes
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(oldest)
      this.bytes -= entry.bytes
    }
  }

  private remove (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }
}
