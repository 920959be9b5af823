import { announceChange } from '../../infrastructure/caching/change-feed.js'
import type { Db } from '../../infrastructure/db/types.js'
import type { KeyRing } from './key-ring.js'

/**
 * The change feed's key for "the signing keys changed": a rotation, a
 * compromise, or a reload asked for by hand (`npm run admin -- signing-keys
 * reload`, after key files were copied in).
 */
export const SIGNING_KEYS_CHANGED = 'signing-keys'

/** Tells every instance, once `tx` commits (PostgreSQL NOTIFY), to reload its signing keys. */
export async function announceSigningKeysChanged (tx: Db): Promise<void> {
  await announceChange(tx, SIGNING_KEYS_CHANGED)
}

export interface KeyRingFollower {
  /** For the change feed: reloads on SIGNING_KEYS_CHANGED, ignores every other key. */
  onChange: (key: string) => void
  /**
   * Reloads now: when the feed (re)connects (what was announced meanwhile is
   * lost) or by hand. Reloads run one at a time; one that changes nothing is a
   * single query (KeyRing.refresh compares a fingerprint first).
   */
  reload: () => void
  /** Waits for the reload in hand (closing). */
  settled: () => Promise<void>
}

/**
 * Keeps a key ring current from the change feed instead of polling: a
 * rotation or compromise made by the admin CLI or another instance takes
 * effect here a few milliseconds after it commits, without a restart.
 */
export function followKeyChanges (keyRing: KeyRing, log: { info: (message: string) => void, error: (details: object, message: string) => void }): KeyRingFollower {
  let running: Promise<void> = Promise.resolve()
  const reload = (): void => {
    const refresh = keyRing.refresh
    if (refresh === undefined) return
    running = running.then(async () => {
      if (await refresh()) log.info('signing keys changed: signers reloaded')
    }).catch((error: unknown) => { log.error({ err: error }, 'signing key reload failed; the next change or reconnection retries') })
  }
  return {
    onChange: (key) => { if (key === SIGNING_KEYS_CHANGED) reload() },
    reload,
    settled: async () => { await running }
  }
}
