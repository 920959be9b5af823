import { isObject } from '../../../kernel/json.js'
import { ForeignUnavailable } from '../foreign/foreign-fetcher.js'
import type { VerificationSources } from '../sources.js'

/**
 * How an Open Badges 2.0 verification reads the issuer's documents (the
 * hosted assertion, its BadgeClass, the Issuer profile, its CryptographicKey
 * and revocation list): plain JSON GETs through the verification's own
 * foreign fetcher, so the app's HttpCache, the outbound address policy, the
 * deadline, the 512 KiB cap and the per-verification request budget apply as
 * they do to status lists (the same sources call carries them). OB 2.0 is
 * verified as JSON: no JSON-LD context is ever fetched.
 */

type Json = Record<string, unknown>

export type Fetched =
  | { ok: true, document: Json, url: string }
  | { ok: false, message: string }

export type ReadDocument = (url: string, what: string) => Promise<Fetched>

const isWebUrl = (value: string): boolean => /^https?:\/\//i.test(value)

/** A reader over one verification's sources; anything that cannot be had is a message, never a throw. */
export function documentReader (sources: VerificationSources): ReadDocument {
  const seen = new Map<string, Promise<Fetched>>()
  const read = async (url: string, what: string): Promise<Fetched> => {
    if (!isWebUrl(url)) return { ok: false, message: `The ${what} "${url}" is not an https URL, so it cannot be retrieved.` }
    try {
      const document = await sources.fetchStatusListCredential(url)
      if (document === undefined) return { ok: false, message: `The ${what} at ${url} was not retrieved: this verifier does not reach other servers.` }
      if (!isObject(document)) return { ok: false, message: `The ${what} at ${url} is not a JSON object.` }
      return { ok: true, document, url }
    } catch (error) {
      if (error instanceof ForeignUnavailable) return { ok: false, message: `The ${what} could not be retrieved: ${error.message}.` }
      throw error
    }
  }
  // One read per URL and verification (a BadgeClass and its Issuer often share a host, never a URL).
  return async (url, what) => {
    const pending = seen.get(url) ?? read(url, what)
    seen.set(url, pending)
    return await pending
  }
}

/**
 * A node an assertion refers to (its `badge`, a BadgeClass's `issuer`): an
 * IRI is fetched; an embedded object is used as given, since the hosted
 * assertion or the signature vouches for it, unless `always` asks for the
 * copy at its id (the Issuer profile: its current key list and revocation list).
 */
export async function resolveNode (node: unknown, what: string, read: ReadDocument, always = false): Promise<Fetched> {
  if (typeof node === 'string') return await read(node, what)
  if (!isObject(node)) return { ok: false, message: `The ${what} is missing.` }
  if (always && typeof node.id === 'string' && isWebUrl(node.id)) return await read(node.id, what)
  return { ok: true, document: node, url: typeof node.id === 'string' ? node.id : '' }
}

/** The ids a property lists: a string, an object with an id, or an array of either. */
export function idsOf (value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value]
  return items.flatMap((item) => typeof item === 'string' ? [item] : isObject(item) && typeof item.id === 'string' ? [item.id] : [])
}
