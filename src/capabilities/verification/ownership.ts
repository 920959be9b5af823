import { parsePublicUrl } from '../../kernel/public-urls.js'

/**
 * How an identifier in a credential (issuer id, verification method, JWT
 * `kid`/`iss`, status list URL) relates to this service:
 * - `own`: byte for byte the canonical URL of one of our resources;
 * - `impostor`: on our host, but spelt some other way (a trailing `?` or `/`,
 *   percent-encoding, `/./`, upper case, a default port, userinfo, another
 *   loopback name...). We never sign such an id, so only a forger writes one,
 *   hoping to be judged as a foreign issuer with a self-asserted key;
 * - `foreign`: anybody else's.
 */
export type Ownership = 'own' | 'impostor' | 'foreign'

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/

/** The host as a verifier should compare it: lower case (URL does that), no trailing dot, loopback names folded. */
function comparableHost (url: URL): string {
  const host = url.hostname.replace(/\.$/, '')
  return LOOPBACK.test(host) ? 'loopback' : host
}

/**
 * Builds the classifier for a service whose public URLs start with `base`.
 * Only the host decides whether an id is "ours" (any scheme or port on our
 * host counts), so no spelling of our address can pass as someone else's.
 */
export function ownershipClassifier (base: string): (id: string) => Ownership {
  const ownHost = comparableHost(new URL(base))
  return (id: string): Ownership => {
    let parsed: URL
    try {
      parsed = new URL(id)
    } catch {
      return 'foreign'
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'foreign'
    if (comparableHost(parsed) !== ownHost) return 'foreign'
    const hashAt = id.indexOf('#')
    const withoutFragment = hashAt === -1 ? id : id.slice(0, hashAt)
    // parsePublicUrl matches `${base}/<kind>/<id>` exactly, so a match is the canonical spelling.
    return parsePublicUrl(base, withoutFragment) !== undefined ? 'own' : 'impostor'
  }
}
