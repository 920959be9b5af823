/**
 * did:web (W3C CCG did:web method, "Read"): the DID's method-specific id is a
 * host, percent-encoded port allowed (`example.com%3A8443`), then optional
 * colon-separated path segments. `did:web:example.com` is read from
 * https://example.com/.well-known/did.json, `did:web:example.com:user:alice`
 * from https://example.com/user/alice/did.json. Under the development switch
 * a loopback host is read over http (a test issuer has no certificate).
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The URL of a did:web's DID document, or undefined when the DID is not a well-formed did:web. */
export function didWebDocumentUrl (did: string, allowLoopback: boolean): URL | undefined {
  const match = /^did:web:([^#?/]+)$/.exec(did)
  if (match === null) return undefined
  const [hostPart, ...path] = match[1]!.split(':')
  let host: string
  let segments: string[]
  try {
    host = decodeURIComponent(hostPart!)
    segments = path.map((segment) => decodeURIComponent(segment))
  } catch {
    return undefined
  }
  // The host part is a host with an optional port, nothing else; a path segment may not climb or hide a separator.
  if (!/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(:[0-9]{1,5})?$/.test(host)) return undefined
  if (segments.some((s) => s === '' || s === '.' || s === '..' || /[/?#\\]/.test(s))) return undefined
  const hostname = host.replace(/:[0-9]{1,5}$/, '').toLowerCase()
  const scheme = allowLoopback && LOOPBACK_HOSTS.has(hostname) ? 'http' : 'https'
  const pathname = segments.length === 0 ? '/.well-known/did.json' : `/${segments.map(encodeURIComponent).join('/')}/did.json`
  try {
    return new URL(`${scheme}://${host}${pathname}`)
  } catch {
    return undefined
  }
}
