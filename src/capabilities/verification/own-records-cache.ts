import { LRUCache } from 'lru-cache'
import { SIGNING_KEYS_CHANGED } from '../keys/key-ring-refresh.js'

/**
 * The verifier's copies of this service's own records: signing keys (their
 * state: active, retired, compromised) and status records with their list's
 * head (version, purpose; the credential's current version, revocation,
 * supersession, renewal). A verification of one of our own credentials read
 * two of them from PostgreSQL every time: 27% of a VC-JWT verification's CPU.
 *
 * Each copy is tagged with the change-feed keys that make it stale
 * (`credential:<id>`, `status-list:<id>`, `signing-keys`: every change to
 * these records is announced in its transaction, infrastructure/caching/
 * change-feed.ts), and dropped when one is heard. The instance making the
 * change drops it at once, before commit; others a few milliseconds after
 * (NOTIFY), or within the polling interval behind a pooler. A copy also
 * lives at most `ttlMs` (a safety net for a notification lost between a
 * disconnection and the reset that follows it), and a read that raced a
 * change is not kept (the generation check below), so a copy is never older
 * than the last change this instance heard of.
 */
export class OwnRecordsCache {
  readonly #entries: LRUCache<string, { value: unknown }>
  /** Cache keys by tag, to drop them when the tag's record changes. */
  readonly #byTag = new Map<string, Set<string>>()
  readonly #tagsOf = new Map<string, readonly string[]>()
  /** Moves on every change heard: a read that started before it is not kept. */
  #generation = 0
  hits = 0
  misses = 0

  constructor (options: { max?: number, ttlMs?: number } = {}) {
    this.#entries = new LRUCache({
      max: options.max ?? 50_000,
      ttl: options.ttlMs ?? 5_000,
      // Expired entries are dropped when read, not by a timer.
      ttlAutopurge: false,
      dispose: (_value, key) => { this.#untag(key) }
    })
  }

  /**
   * The copy under `key`, else `load()`'s answer, kept (with the tags
   * `tagsOf` gives it; none: not kept) unless a change was heard while it
   * was read.
   */
  async get<T> (key: string, tagsOf: (value: T) => readonly string[] | undefined, load: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      this.hits++
      return entry.value as T
    }
    this.misses++
    const generation = this.#generation
    const value = await load()
    const tags = tagsOf(value)
    if (generation === this.#generation && tags !== undefined) {
      this.#entries.set(key, { value })
      this.#tagsOf.set(key, tags)
      for (const tag of tags) {
        let keys = this.#byTag.get(tag)
        if (keys === undefined) this.#byTag.set(tag, keys = new Set())
        keys.add(key)
      }
    }
    return value
  }

  /** A change-feed key was heard: the copies tagged with it go. */
  onChange (changeKey: string): void {
    if (!changeKey.startsWith('credential:') && !changeKey.startsWith('status-list:') && changeKey !== SIGNING_KEYS_CHANGED) return
    this.#generation++
    const keys = this.#byTag.get(changeKey)
    if (keys === undefined) return
    for (const key of [...keys]) this.#entries.delete(key)
  }

  /** The feed reconnected (notifications may have been missed), or the app closes: everything goes. */
  clear (): void {
    this.#generation++
    this.#entries.clear()
    this.#byTag.clear()
    this.#tagsOf.clear()
  }

  #untag (key: string): void {
    const tags = this.#tagsOf.get(key)
    if (tags === undefined) return
    this.#tagsOf.delete(key)
    for (const tag of tags) {
      const keys = this.#byTag.get(tag)
      keys?.delete(key)
      if (keys?.size === 0) this.#byTag.delete(tag)
    }
  }
}
