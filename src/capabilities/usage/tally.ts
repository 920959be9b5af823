import type { UsageKind } from './kinds.js'

/** Counts not yet written, per (credential, day, kind). */
export interface PendingCount {
  credentialId: string
  day: string
  kind: UsageKind
  count: number
}

/**
 * The counts one process has seen since its last flush, in memory: counting a
 * request is a map update, never a query. Bounded: past `maxKeys` distinct
 * (credential, day, kind) keys (ids that look like credentials but are not
 * are only dropped at the flush), new keys are not counted until the next flush.
 */
export class UsageTally {
  readonly #counts = new Map<string, PendingCount>()
  readonly #maxKeys: number
  #dropped = 0

  constructor (maxKeys = 50_000) {
    this.#maxKeys = maxKeys
  }

  add (credentialId: string, kind: UsageKind, day: string, count = 1): void {
    const key = `${credentialId} ${day} ${kind}`
    const known = this.#counts.get(key)
    if (known !== undefined) known.count += count
    else if (this.#counts.size < this.#maxKeys) this.#counts.set(key, { credentialId, day, kind, count })
    else this.#dropped += count
  }

  get size (): number {
    return this.#counts.size
  }

  /** Takes every pending count (and how many were dropped for want of room), leaving none. */
  drain (): { counts: PendingCount[], dropped: number } {
    const counts = [...this.#counts.values()]
    const dropped = this.#dropped
    this.#counts.clear()
    this.#dropped = 0
    return { counts, dropped }
  }

  /** Puts back counts a failed flush took, to be tried again with the next one. */
  restore (counts: readonly PendingCount[]): void {
    for (const c of counts) this.add(c.credentialId, c.kind, c.day, c.count)
  }
}
