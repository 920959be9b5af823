import type { Db } from '../../infrastructure/db/types.js'
import { findMatch, originOf, type Matcher } from './matching.js'
import { findRecognising, listCurrentMatchers } from './store.js'

/** The change feed's key for "the registry of recognised issuers changed" (an entry added or removed, anywhere). */
export const RECOGNISED_ISSUERS_CHANGED = 'recognised-issuers'

/** Which registry entry recognised an issuer, and the name it goes by. */
export interface Recognition { entryId: string, name: string }

/** Reads the registry for one issuer id (one query, no cache): for callers that keep no state, such as commands. */
export async function recognisedIssuer (sql: Db, issuerId: string): Promise<Recognition | undefined> {
  const row = await findRecognising(sql, issuerId, originOf(issuerId))
  return row === undefined ? undefined : { entryId: row.id, name: row.name }
}

export interface RecognisedIssuers {
  /** The entry recognising `issuerId` (matching.ts), or undefined. Rejects when the registry cannot be read. */
  find: (issuerId: string) => Promise<Recognition | undefined>
  /** For the change feed: drops the cache on RECOGNISED_ISSUERS_CHANGED, ignores every other key. */
  onChange: (key: string) => void
  /** Drops the cache (the feed reconnected: what was announced meanwhile is lost). */
  reset: () => void
}

type Entry = Matcher & Recognition
interface Snapshot { exact: Map<string, Entry>, origins: Map<string, Entry> }

/**
 * The registry held in memory by one app (it is small: staff add entries by
 * hand), read once and again after every change announced on the change feed,
 * so an entry added or removed on any instance counts here a few milliseconds
 * after it commits. A change drops the copy and any read under way (its
 * callers get what it read; the next lookup reads again).
 */
export function recognisedIssuers (sql: Db): RecognisedIssuers {
  let snapshot: Promise<Snapshot> | undefined
  const load = async (): Promise<Snapshot> => {
    const rows = await listCurrentMatchers(sql)
    const exact = new Map<string, Entry>()
    const origins = new Map<string, Entry>()
    for (const row of rows) (row.kind === 'issuer-id' ? exact : origins).set(row.matcher, { kind: row.kind, value: row.matcher, entryId: row.id, name: row.name })
    return { exact, origins }
  }
  const current = (): Promise<Snapshot> => {
    if (snapshot !== undefined) return snapshot
    const loading = snapshot = load()
    // A failed read is not kept: the next lookup tries again.
    loading.catch(() => { if (snapshot === loading) snapshot = undefined })
    return loading
  }
  const reset = (): void => { snapshot = undefined }
  return {
    find: async (issuerId) => {
      const entry = findMatch(await current(), issuerId)
      return entry === undefined ? undefined : { entryId: entry.entryId, name: entry.name }
    },
    onChange: (key) => { if (key === RECOGNISED_ISSUERS_CHANGED) reset() },
    reset
  }
}
