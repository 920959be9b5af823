import { randomInt } from 'node:crypto'
import type { Sql } from 'postgres'
import type { Db } from '../db/types.js'
import { signDataIntegrity } from '../credentials/sign.js'
import { newId } from '../ids.js'
import type { KeyRing } from '../keys/key-ring.js'
import type { PublicUrls } from '../public-urls.js'
import { emptyBitstring, getBit, MIN_STATUS_LIST_SIZE, withBitSet } from './bitstring.js'
import { buildStatusListCredential, STATUS_LIST_REFRESH_MS } from './status-list-credential.js'
import { claimIndex, findOpenStatusList, findStatusList, insertStatusList, lockStatusList, saveSignedStatusList, type StatusListRow } from './store.js'

export interface StatusListDeps {
  sql: Sql
  keyRing: KeyRing
  urls: PublicUrls
  now: Date
}

export interface StatusEntry { listId: string, index: number }

// Close a list at half its size: a random draw then hits a free index at least
// half the time, and every credential hides among 65,536 others (herd privacy).
const CAPACITY_RATIO = 0.5
const MAX_DRAWS = 64

async function signList (deps: Pick<StatusListDeps, 'keyRing' | 'urls' | 'now'>, list: { id: string, issuerId: string, purpose: string, bits: Uint8Array }): Promise<{ credential: string, validUntil: Date }> {
  const keys = deps.keyRing.signingKeys(list.issuerId)
  if (keys === undefined) throw new Error(`No signing keys for issuer "${list.issuerId}".`)
  const { credential, validUntil } = buildStatusListCredential({ listId: list.id, issuerId: list.issuerId, purpose: list.purpose, bits: list.bits, now: deps.now, urls: deps.urls })
  const signed = await signDataIntegrity(credential, keys.dataIntegrity, deps.now)
  return { credential: JSON.stringify(signed), validUntil }
}

async function openNewList (deps: StatusListDeps, issuerId: string, purpose: string): Promise<void> {
  const id = newId()
  const size = MIN_STATUS_LIST_SIZE
  const bits = emptyBitstring(size)
  const { credential, validUntil } = await signList(deps, { id, issuerId, purpose, bits })
  // When another process opens one at the same moment, the unique index keeps
  // theirs and ours is dropped; both then use theirs.
  await insertStatusList(deps.sql, { id, issuerId, purpose, size, capacity: Math.floor(size * CAPACITY_RATIO), bits, credential, signedAt: deps.now, validUntil })
}

/**
 * Hands out a random, never-used index on the issuer's open list, opening a new
 * list when there is none or the current one is full.
 */
export async function allocateStatusEntry (deps: StatusListDeps, issuerId: string, purpose = 'revocation'): Promise<StatusEntry> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const list = await findOpenStatusList(deps.sql, issuerId, purpose)
    if (list === undefined) {
      await openNewList(deps, issuerId, purpose)
      continue
    }
    const index = randomInt(list.size)
    if (await claimIndex(deps.sql, list.id, index) !== undefined) return { listId: list.id, index }
  }
  throw new Error(`Could not allocate a status index for issuer "${issuerId}" after ${MAX_DRAWS} draws.`)
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
  await saveSignedStatusList(deps.sql, { id: list.id, bits, version: list.version + 1, credential, signedAt: deps.now, validUntil })
  return true
}

/**
 * Returns the list to serve, re-signing it first when its signed credential is
 * close to its validUntil, so a served list is never expired.
 */
export async function currentStatusList (deps: StatusListDeps, id: string): Promise<StatusListRow | undefined> {
  const list = await findStatusList(deps.sql, id)
  if (list === undefined || list.validUntil.getTime() - deps.now.getTime() > STATUS_LIST_REFRESH_MS) return list
  return await deps.sql.begin(async (tx) => {
    const locked = await lockStatusList(tx, id)
    if (locked === undefined || locked.validUntil.getTime() - deps.now.getTime() > STATUS_LIST_REFRESH_MS) return locked
    const { credential, validUntil } = await signList(deps, locked)
    const refreshed = { id, bits: locked.bits, version: locked.version + 1, credential, signedAt: deps.now, validUntil }
    await saveSignedStatusList(tx, refreshed)
    return { ...locked, ...refreshed, updatedAt: deps.now }
  }) as StatusListRow | undefined
}
