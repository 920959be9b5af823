import { randomInt } from 'node:crypto'
import { MIN_STATUS_LIST_SIZE } from './bitstring.js'

/**
 * How status lists are sized and filled. Production uses the defaults; tests
 * inject a small capacity (to fill a list and roll over) or a fixed draw (to
 * exhaust the draws) without touching the code paths.
 */
export interface StatusListPolicy {
  /** Bits per list. Bitstring Status List asks for at least 131,072 (16 KiB), for herd privacy. */
  size: number
  /** Indexes handed out before the list is closed and a new one opened. */
  capacity: number
  /** Random draws tried for one credential before giving up with a clear error. */
  maxDraws: number
  /** Picks a candidate index in [0, size). */
  drawIndex: (size: number) => number
}

// Close a list at half its size: a random draw then hits a free index at least
// half the time (64 draws all colliding has odds below 2^-64), and every
// credential hides among 65,536 others.
export const DEFAULT_STATUS_LIST_POLICY: StatusListPolicy = {
  size: MIN_STATUS_LIST_SIZE,
  capacity: MIN_STATUS_LIST_SIZE / 2,
  maxDraws: 64,
  drawIndex: (size) => randomInt(size)
}

/** The defaults with the given overrides, refused when they could not work. */
export function statusListPolicy (overrides: Partial<StatusListPolicy> = {}): StatusListPolicy {
  const policy = { ...DEFAULT_STATUS_LIST_POLICY, ...overrides }
  if (!Number.isInteger(policy.size) || policy.size < MIN_STATUS_LIST_SIZE || policy.size % 8 !== 0) {
    throw new RangeError(`Status list size must be a multiple of 8 and at least ${MIN_STATUS_LIST_SIZE}.`)
  }
  if (!Number.isInteger(policy.capacity) || policy.capacity < 1 || policy.capacity > policy.size) {
    throw new RangeError('Status list capacity must be between 1 and the list size.')
  }
  if (!Number.isInteger(policy.maxDraws) || policy.maxDraws < 1) throw new RangeError('maxDraws must be at least 1.')
  return policy
}
