import { lookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { rootCertificates } from 'node:tls'
import ipaddr from 'ipaddr.js'

/**
 * The service's outbound HTTP: the only calls it makes to other servers (a
 * pasted credential link, webhooks, achievement images, other issuers' keys
 * and status lists). Every address the host resolves to must be globally
 * routable unicast (see addressClass), except loopback for a loopback name
 * under the development switch; the connection is pinned to the checked address, so a second DNS
 * answer cannot point it elsewhere; redirects are never followed (the caller
 * sees the 3xx); the whole exchange has a deadline and the answer a size cap.
 */

// IANA's global unicast allocation (RFC 4291 2.5.4); everything in use on the internet lies inside.
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3')

/**
 * The special-purpose range an address literal belongs to: ipaddr.js's
 * `range()` name ('unicast' for a global address, 'loopback', 'private',
 * 'ipv4Mapped', '6to4', 'teredo', 'rfc6052', 'reserved'...), 'invalid' for
 * anything that is not a plain IPv4 or IPv6 literal, or 'notGlobalUnicast'
 * for an IPv6 address ipaddr.js calls unicast outside 2000::/3. That extra
 * rule is there because ipaddr.js knows no range for the IPv4-compatible
 * ::a.b.c.d (in the hex spelling DNS and URLs give, ::7f00:1, it says
 * 'unicast'), nor for the rest of the unallocated space.
 */
export function addressClass (address: string): string {
  // Node's parser first: ipaddr.js alone would also read 0x7f.1 or 2130706433 as an address.
  if (isIP(address) === 0 || !ipaddr.isValid(address)) return 'invalid'
  const parsed = ipaddr.parse(address)
  // The typings list fewer range names than the library returns (deprecatedSiteLocal, discard...).
  const range: string = parsed.range()
  if (range === 'unicast' && parsed.kind() === 'ipv6' && !parsed.match(IPV6_GLOBAL_UNICAST)) return 'notGlobalUnicast'
  return range
}

/**
 * Is this an address outbound calls may not reach? Only globally routable
 * unicast is allowed. An IPv4-mapped address (::ffff:a.b.c.d) is refused
 * whatever IPv4 address it carries: no public server needs one to be
 * reached, and judging the embedded address would be one more rule to get
 * right.
 */
export function isBlockedAddress (address: string): boolean {
  return addressClass(address) !== 'unicast'
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1'])

/**
 * Does the development switch (OUTBOUND_ALLOW_LOOPBACK) open this URL? Only
 * the loopback names themselves: a public name that resolves to 127.0.0.1 is
 * still refused, and so is every private range.
 */
export function isDevLoopbackUrl (url: URL, allowLoopback: boolean): boolean {
  return allowLoopback && LOOPBACK_NAMES.has(url.hostname.replace(/^\[|\]$/g, ''))
}

/** The one scheme rule of every outbound fetch: https, or http to loopback under the development switch. */
export function isFetchableScheme (url: URL, allowLoopback: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isDevLoopbackUrl(url, allowLoopback))
}

/** Why an outbound call was refused or cut short; callers word it for their own audience. */
export class OutboundRefused extends Error {
  constructor (readonly reason: 'unresolvable' | 'private-address' | 'too-large' | 'timeout', readonly host: string) {
    super(`outbound call to ${host} refused: ${reason}`)
    this.name = 'OutboundRefused'
  }
}

export interface OutboundAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/**
 * Tests only, given to buildApp (never read from configuration or the
 * environment): stand-ins on loopback for public hosts whose URLs are inside
 * signed documents and so cannot be rewritten. A host is a stand-in when
 * `portFor` names a port for it; with OUTBOUND_ALLOW_LOOPBACK it may then
 * reach a loopback address, as localhost may, and nothing else: whatever
 * `resolveName` answers still passes the address policy. TLS is checked as
 * usual, against the host's own name, with `ca` trusted beside the system's
 * roots.
 */
export interface OutboundForTests {
  resolveName: typeof lookup
  /** PEM certificate trusted in addition to the system's roots. */
  ca: string
  /** The loopback port standing for this host's 443 (or 80); undefined: not a stand-in. */
  portFor: (host: string) => number | undefined
}

export interface OutboundRequest {
  url: URL
  method: 'GET' | 'POST'
  headers: Record<string, string | number>
  body?: string
  timeoutMs: number
  maxBytes: number
  /** 'refuse': a larger answer fails the call; 'keep-start': the first maxBytes are kept. */
  tooLarge: 'refuse' | 'keep-start'
  /** OUTBOUND_ALLOW_LOOPBACK: a loopback name (localhost, 127.0.0.1, ::1) may reach loopback addresses; nothing else relaxes. */
  allowLoopback?: boolean
  resolveName?: typeof lookup
  forTests?: OutboundForTests
}

export async function outboundRequest (options: OutboundRequest): Promise<OutboundAnswer> {
  const host = options.url.hostname.replace(/^\[|\]$/g, '')
  const resolveName = options.forTests?.resolveName ?? options.resolveName ?? lookup
  const addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await resolveName(host, { all: true }).catch(() => [])
  const [pinned] = addresses
  if (pinned === undefined) throw new OutboundRefused('unresolvable', host)
  const standInPort = options.forTests?.portFor(host)
  const devLoopback = isDevLoopbackUrl(options.url, options.allowLoopback === true) || (options.allowLoopback === true && standInPort !== undefined)
  const refused = (address: string): boolean => isBlockedAddress(address) && !(devLoopback && addressClass(address) === 'loopback')
  if (addresses.some((a) => refused(a.address))) throw new OutboundRefused('private-address', host)
  const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send(options.url, {
      method: options.method,
      ...(standInPort !== undefined ? { port: standInPort } : {}),
      // Added to the system's roots, not in their place; the name checked is still the URL's host.
      ...(options.forTests !== undefined ? { ca: [...rootCertificates, options.forTests.ca] } : {}),
      headers: { ...options.headers, ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}) },
      lookup: (_hostname, lookupOptions, callback) => {
        // The address checked above, whatever DNS says now.
        if ((lookupOptions as { all?: boolean }).all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [pinned])
        else callback(null, pinned.address, pinned.family)
      }
    }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      const finish = (): void => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }) }
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= options.maxBytes) {
          chunks.push(chunk)
          return
        }
        response.destroy()
        if (options.tooLarge === 'refuse') reject(new OutboundRefused('too-large', host))
        else {
          chunks.push(chunk.subarray(0, chunk.length - (size - options.maxBytes)))
          finish()
        }
      })
      response.on('end', finish)
      response.on('error', reject)
    })
    // One deadline for the whole exchange, not only for idle sockets.
    const deadline = setTimeout(() => { req.destroy(new OutboundRefused('timeout', host)) }, options.timeoutMs)
    req.on('close', () => { clearTimeout(deadline) })
    req.on('error', reject)
    req.end(options.body)
  })
}
