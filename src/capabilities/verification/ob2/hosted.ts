import { isObject } from '../../../kernel/json.js'
import type { Check } from '../result.js'
import { failed, passed, unknown } from '../result.js'
import { idsOf, type ReadDocument } from './documents.js'

/**
 * Open Badges 2.0 hosted verification: the assertion is genuine when its
 * issuer serves it at its own `id` (the id must be the URL it is fetched
 * from), on an origin the issuer allows. A copy given as JSON is compared with
 * what the issuer serves now, as JSON values (key order and spacing aside):
 * it must say the same, except whether it has since been revoked, which is
 * the status check's business and read from the issuer's copy.
 */

type Json = Record<string, unknown>

/** Members a hosted assertion gains when its issuer revokes it. */
const REVOCATION_MEMBERS = new Set(['revoked', 'revocationReason'])

function canonical (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (!isObject(value)) return value
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]))
}

function sameMeaning (given: Json, hosted: Json): boolean {
  const without = (document: Json): Json => Object.fromEntries(Object.entries(document).filter(([key]) => !REVOCATION_MEMBERS.has(key)))
  return JSON.stringify(canonical(without(given))) === JSON.stringify(canonical(without(hosted)))
}

export interface HostedProof {
  proof: Check
  /** The assertion as its issuer serves it now, when the proof passed. */
  hosted?: Json
}

/**
 * Fetches the assertion from its id and holds the given copy against it.
 * `fetchedFrom`: the link the given copy was itself fetched from (a verify
 * request that named a URL), which must be its id.
 */
export async function checkHostedAssertion (given: Json, read: ReadDocument, fetchedFrom?: string): Promise<HostedProof> {
  const id = given.id as string
  if (fetchedFrom !== undefined && fetchedFrom !== id) return { proof: failed('proof', `The assertion fetched from ${fetchedFrom} says its "id" is "${id}"; a hosted assertion's "id" must be the URL it is fetched from.`) }
  const fetched = await read(id, 'hosted assertion')
  if (!fetched.ok) return { proof: unknown('proof', `${fetched.message} A hosted Open Badges 2.0 assertion is genuine only as its issuer serves it, so it cannot be confirmed now.`) }
  const hosted = fetched.document
  if (hosted.id !== id) return { proof: failed('proof', `The assertion at ${id} says its "id" is "${String(hosted.id)}"; a hosted assertion's "id" must be the URL it is fetched from.`) }
  if (!sameMeaning(given, hosted)) return { proof: failed('proof', `The assertion given is not the one its issuer hosts at ${id}: they differ in content.`) }
  return { proof: passed('proof', `The assertion is hosted at its own "id", ${id}, and says the same as the copy given.`), hosted }
}

/**
 * The issuer's hosted-verification policy (OB 2.0 Profile `verification`):
 * `startsWith` prefixes, else `allowedOrigins`, else the origin of the
 * issuer's own id. Returns why the assertion's id is not allowed, or undefined.
 */
export function outsideHostingPolicy (assertionId: string, issuer: Json): string | undefined {
  const policy = isObject(issuer.verification) ? issuer.verification : {}
  const prefixes = idsOf(policy.startsWith)
  if (prefixes.length > 0) {
    return prefixes.some((prefix) => assertionId.startsWith(prefix)) ? undefined : `The assertion's id ${assertionId} does not start with any prefix its issuer allows for hosted assertions (${prefixes.join(', ')}).`
  }
  let host: string
  try {
    host = new URL(assertionId).host
  } catch {
    return `The assertion's id "${assertionId}" is not a URL.`
  }
  const allowed = idsOf(policy.allowedOrigins)
  if (allowed.length > 0) return allowed.includes(host) ? undefined : `The assertion is hosted on ${host}, which is not among the origins its issuer allows (${allowed.join(', ')}).`
  let issuerHost: string | undefined
  try {
    issuerHost = typeof issuer.id === 'string' ? new URL(issuer.id).host : undefined
  } catch {}
  return issuerHost === host ? undefined : `The assertion is hosted on ${host}, not on its issuer's own host (${issuerHost ?? 'unknown'}), and the issuer names no other allowed origin.`
}
