import { lookup } from 'node:dns/promises'
import { request } from 'node:https'
import { BlockList, isIP } from 'node:net'

/**
 * Fetches a credential from a pasted https URL: the one place the service
 * makes an outbound request. Only https; every address the name resolves to
 * must be public (no loopback, private, link-local, CGNAT, multicast or
 * unspecified ranges), and the connection is pinned to the checked address so
 * a second DNS answer cannot point it elsewhere; no redirects; a short timeout
 * and a size cap. The service's own URLs never reach this (they are read from
 * the database).
 */

export const FETCH_LIMITS = { timeoutMs: 5000, maxBytes: 256 * 1024 }

export class FetchRefusedError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FetchRefusedError'
  }
}

const BLOCKED = new BlockList()
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) BLOCKED.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) BLOCKED.addSubnet(network, prefix, 'ipv6')

/** Is this address one a pasted URL may not reach? */
export function isBlockedAddress (address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host: judge that.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped !== undefined) return isBlockedAddress(mapped)
  const family = isIP(address)
  if (family === 0) return true
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

export async function fetchPastedCredential (raw: string, resolveName: typeof lookup = lookup): Promise<string> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new FetchRefusedError('That is not a link.')
  }
  if (url.protocol !== 'https:') throw new FetchRefusedError('Only https links can be fetched.')
  if (url.username !== '' || url.password !== '') throw new FetchRefusedError('Links with a user name or password are not fetched.')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await resolveName(host, { all: true }).catch(() => [])
  if (addresses.length === 0) throw new FetchRefusedError(`The host "${host}" could not be found.`)
  if (addresses.some((a) => isBlockedAddress(a.address))) throw new FetchRefusedError(`The host "${host}" is on a private or local network; only public https addresses are fetched.`)
  const [pinned] = addresses
  return await new Promise<string>((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'application/vc+ld+json, application/ld+json, application/vc+jwt, application/json;q=0.9, text/plain;q=0.5', 'user-agent': 'Tessera verifier' },
      timeout: FETCH_LIMITS.timeoutMs,
      lookup: (_hostname, options, callback) => {
        // The address checked above, whatever DNS says now.
        if ((options as { all?: boolean }).all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [{ address: pinned!.address, family: pinned!.family }])
        else callback(null, pinned!.address, pinned!.family)
      }
    }, (response) => {
      const status = response.statusCode ?? 0
      if (status >= 300 && status < 400) {
        response.resume()
        reject(new FetchRefusedError(`The link redirects elsewhere (HTTP ${status}); redirects are not followed. Paste the final link.`))
        return
      }
      if (status !== 200) {
        response.resume()
        reject(new FetchRefusedError(`The link answered HTTP ${status}.`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > FETCH_LIMITS.maxBytes) {
          req.destroy()
          reject(new FetchRefusedError(`The document at the link is larger than ${FETCH_LIMITS.maxBytes / 1024} KiB.`))
          return
        }
        chunks.push(chunk)
      })
      response.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
      response.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new FetchRefusedError(`The link did not answer within ${FETCH_LIMITS.timeoutMs / 1000} seconds.`)) })
    req.on('error', (error) => { reject(error instanceof FetchRefusedError ? error : new FetchRefusedError(`The link could not be fetched: ${error.message}.`)) })
    req.end()
  })
}
