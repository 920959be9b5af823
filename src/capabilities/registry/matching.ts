/**
 * Which issuer ids a registry entry recognises. Pure: no I/O.
 *
 * - An `issuer-id` entry recognises exactly one issuer id: the credential's
 *   `issuer.id` (or `issuer` string) must equal it character for character.
 *   No normalisation, because issuer ids are compared as strings everywhere
 *   else (`https://a.example/x` and `https://A.example/x/` are two issuers).
 * - An `origin` entry (`https://host[:port]`, stored as WHATWG URL serialises
 *   it: lower-case host, default port dropped) recognises every issuer id
 *   whose origin it is: an https URL with exactly that scheme, host and port
 *   (so not a subdomain, not http, not another port), or a `did:web` whose
 *   domain segment is that host and port (did:web resolves over https at that
 *   origin, so whoever controls the origin controls the DID).
 * An exact entry wins over an origin entry when both recognise an id.
 */
export type MatcherKind = 'issuer-id' | 'origin'

export interface Matcher { kind: MatcherKind, value: string }

/** The longest issuer id or origin accepted (the column's limit). */
export const MAX_MATCHER_LENGTH = 2000

/** Why `id` cannot be an exact issuer id, or undefined when it can: the same rule as TRUSTED_ISSUERS (an absolute URI). */
export function issuerIdProblem (id: string): string | undefined {
  if (id.length > MAX_MATCHER_LENGTH) return `must be at most ${MAX_MATCHER_LENGTH} characters`
  if (/\s/.test(id) || !URL.canParse(id)) return `must be an absolute issuer id (a URL or a DID such as "did:key:z6Mk…"), got "${id}"`
  return undefined
}

/** The stored form of an https origin, or why `input` is not one. A trailing "/" is accepted. */
export function canonicalOrigin (input: string): { origin: string } | { problem: string } {
  const url = input.length <= MAX_MATCHER_LENGTH && URL.canParse(input) ? new URL(input) : undefined
  if (url?.protocol !== 'https:') return { problem: `must be an https origin such as "https://badges.example.org", got "${input}"` }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(input)) {
    return { problem: `must be an https origin (scheme, host and optional port, nothing after them), got "${input}"; to recognise one issuer id, send it as "issuerId"` }
  }
  return { origin: url.origin }
}

/** A did:web domain segment: a host name and an optional port (percent-encoded colon), nothing else. */
const DID_WEB = /^did:web:([A-Za-z0-9.-]+)(?:%3[Aa]([0-9]{1,5}))?(?::|$)/

/** The https origin an issuer id lives under (see the rule above), or undefined for any other id. */
export function originOf (issuerId: string): string | undefined {
  const didWeb = DID_WEB.exec(issuerId)
  if (didWeb !== null) {
    const candidate = `https://${didWeb[1]!}${didWeb[2] !== undefined ? `:${didWeb[2]}` : ''}`
    return URL.canParse(candidate) ? new URL(candidate).origin : undefined
  }
  if (!URL.canParse(issuerId)) return undefined
  const url = new URL(issuerId)
  return url.protocol === 'https:' ? url.origin : undefined
}

/** The entry recognising `issuerId` among `entries` (exact first, then its origin), or undefined. */
export function findMatch<T extends Matcher> (entries: { exact: ReadonlyMap<string, T>, origins: ReadonlyMap<string, T> }, issuerId: string): T | undefined {
  const exact = entries.exact.get(issuerId)
  if (exact !== undefined) return exact
  const origin = originOf(issuerId)
  return origin === undefined ? undefined : entries.origins.get(origin)
}
