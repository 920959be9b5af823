import type { ChangeAnnouncer } from '../../infrastructure/caching/change-feed.js'
import type { Db } from '../../infrastructure/db/types.js'
import type { DataIntegrity } from '../../infrastructure/signing/pool.js'
import { signDataIntegrity } from '../../infrastructure/signing/sign.js'
import { newId } from '../../kernel/ids.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { AppError } from '../../kernel/errors.js'
import { emptyBitstring, getBit, withBitSet } from './bitstring.js'
import type { StatusListPolicy } from './policy.js'
import { buildStatusListCredential } from './status-list-credential.js'
import { claimIndexes, countStatusEntries, findOpenStatusList, insertStatusList, lockStatusList, saveSignedStatusList } from './store.js'

export interface StatusListDeps {
  /** The issuing transaction (or any connection). */
  sql: Db
  keyRing: KeyRing
  urls: PublicUrls
  now: Date
  /** Where lists are signed (the app's Data Integrity threads); absent: on this thread. */
  dataIntegrity?: DataIntegrity
  /** The app's change feed, so that its own caches drop a re-signed list at once; absent: NOTIFY only. */
  changes?: ChangeAnnouncer
}

export interface StatusEntry { listId: string, index: number }

const noFreeIndex = (issuerId: string, policy: StatusListPolicy): AppError =>
  new AppError('status_index_unavailable', `No free status-list index was found for issuer "${issuerId}" in ${policy.maxDraws} draws; nothing was issued. Try again.`)

/** Builds and signs a list's BitstringStatusListCredential for its current bits. */
export async function signList (deps: Pick<StatusListDeps, 'keyRing' | 'urls' | 'now' | 'dataIntegrity'>, list: { id: string, issuerId: string, purpose: string, bits: Uint8Array }): Promise<{ credential: string, validUntil: Date }> {
  const keys = deps.keyRing.signingKeys(list.issuerId)
  if (keys === undefined) throw new Error(`No signing keys for issuer "${list.issuerId}".`)
  const { credential, validUntil } = buildStatusListCredential({ listId: list.id, issuerId: list.issuerId, purpose: list.purpose, bits: list.bits, now: deps.now, urls: deps.urls })
  const signed = await signDataIntegrity(credential, keys.dataIntegrity, deps.now, deps.dataIntegrity)
  return { credential: JSON.stringify(signed), validUntil }
}

async function openNewList (deps: StatusListDeps, policy: StatusListPolicy, issuerId: string, purpose: string): Promise<void> {
  const id = newId()
  const size = policy.size
  const bits = emptyBitstring(size)
  const { credential, validUntil } = await signList(deps, { id, issuerId, purpose, bits })
  // When another process opens one at the same moment, the unique index keeps
  // theirs and ours is dropped; both then use theirs.
  await insertStatusList(deps.sql, { id, issuerId, purpose, size, capacity: policy.capacity, bits, credential, signedAt: deps.now, validUntil })
}

/**
 * Claims a random, never-used index on the issuer's open list, opening a new
 * list when there is none or the current one is full. Runs inside the issuing
 * transaction: the claim is an INSERT ... ON CONFLICT DO NOTHING, so a taken
 * index never aborts the transaction, and if the issuance rolls back the claim
 * goes with it (no signed document carrying that index ever left the service).
 * Call countStatusEntry last in the same transaction.
 */
export async function claimStatusEntry (deps: StatusListDeps, policy: StatusListPolicy, issuerId: string, purpose = 'revocation'): Promise<StatusEntry> {
  for (let draw = 0; draw < policy.maxDraws; draw++) {
    const list = await findOpenStatusList(deps.sql, issuerId, purpose)
    if (list === undefined) {
      await openNewList(deps, policy, issuerId, purpose)
      continue
    }
    const index = policy.drawIndex(list.size)
    if ((await claimIndexes(deps.sql, list.id, [index])).length === 1) return { listId: list.id, index }
  }
  throw noFreeIndex(issuerId, policy)
}

/**
 * claimStatusEntry for many credentials of one issuer (a batch): one INSERT
 * claims a whole draw of distinct random indexes, and a list that fills up is
 * counted (closed) at once so that the rest go to the next one. Returns the
 * entries in claim order and the counts still to make: the caller runs
 * countStatusEntries for them last in the same transaction, as with one entry.
 */
export async function claimStatusEntries (deps: StatusListDeps, policy: StatusListPolicy, issuerId: string, count: number, purpose = 'revocation'): Promise<{ entries: StatusEntry[], uncounted: Map<string, number> }> {
  const entries: StatusEntry[] = []
  const uncounted = new Map<string, number>()
  let fruitlessDraws = 0
  while (entries.length < count) {
    const list = await findOpenStatusList(deps.sql, issuerId, purpose)
    if (list === undefined) {
      await openNewList(deps, policy, issuerId, purpose)
      continue
    }
    const pending = uncounted.get(list.id) ?? 0
    const want = Math.min(count - entries.length, Math.max(1, list.capacity - list.allocated - pending))
    const candidates = new Set<number>()
    for (let i = 0; i < want * 4 && candidates.size < want; i++) candidates.add(policy.drawIndex(list.size))
    const claimed = await claimIndexes(deps.sql, list.id, [...candidates])
    if (claimed.length === 0 && ++fruitlessDraws >= policy.maxDraws) {
      throw noFreeIndex(issuerId, policy)
    }
    for (const index of claimed) entries.push({ listId: list.id, index })
    if (list.allocated + pending + claimed.length >= list.capacity) {
      // Full: closed now (its row stays locked until commit), so the next draw opens or finds another.
      await countStatusEntries(deps.sql, list.id, pending + claimed.length)
      uncounted.delete(list.id)
    } else if (claimed.length > 0) {
      uncounted.set(list.id, pending + claimed.length)
    }
  }
  return { entries, uncounted }
}

/**
 * Sets one bit and re-signs the list, inside the caller's transaction. The row
 * lock serialises concurrent changes to one list, so no update is lost.
 * Returns false when the bit was already set (nothing changes).
 */
export async function setStatusBit (deps: Omit<StatusListDeps, 'sql'> & { sql: Db }, entry: StatusEntry): Promise<boolean> {
  const list = await lockStatusList(deps.sql, entry.listId)
  if (list === undefined) throw new Error(`Status list "${entry.listId}" does not exist.`)
  if (getBit(list.bits, entry.index)) return false
  const bits = withBitSet(list.bits, entry.index)
  const { credential, validUntil } = await signList(deps, { ...list, bits })
  await saveSignedStatusList(deps.sql, { id: list.id, bits, version: list.version + 1, credential, signedAt: deps.now, validUntil }, deps.changes)
  return true
}
