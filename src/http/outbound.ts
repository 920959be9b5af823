import { lookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP } from 'node:net'

/**
 * The service's outbound HTTP: the only calls it makes to other servers (a
 * pasted credential link, webhooks). Every address the host resolves to must
 * be public (no loopback, private, link-local, CGNAT, multicast or
 * unspecified ranges) unless the caller allows loopback; the connection is
 * pinned to the checked address, so a second DNS answer cannot point it
 * elsewhere; redirects are never followed (the caller sees the 3xx); the
 * whole exchange has a deadline and the answer a size cap.
 */

const BLOCKED = new BlockList()
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) BLOCKED.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) BLOCKED.addSubnet(network, prefix, 'ipv6')

/** Is this an address outbound calls may not reach? */
export function isBlockedAddress (address: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host: judge that.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped !== undefined) return isBlockedAddress(mapped)
  const family = isIP(address)
  if (family === 0) return true
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Why an outbound call was refused or cut short; callers word it for their own audience. */
export class OutboundRefused extends Error {
  constructor (readonly reason: 'unresolvable' | 'private-address' | 'too-large' | 'timeout', readonly host: string) {
    super(`outbound call to ${host} refused: ${reason}`)
    this.name = 'OutboundRefused'
  }
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
  /** Loopback and private addresses allowed (a development setting, decided by the caller). */
  allowPrivate?: boolean
  resolveName?: typeof lookup
}

export async function outboundRequest (options: OutboundRequest): Promise<{ status: number, body: Buffer }> {
  const host = options.url.hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await (options.resolveName ?? lookup)(host, { all: true }).catch(() => [])
  const [pinned] = addresses
  if (pinned === undefined) throw new OutboundRefused('unresolvable', host)
  if (options.allowPrivate !== true && addresses.some((a) => isBlockedAddress(a.address))) throw new OutboundRefused('private-address', host)
  const send = options.url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send(options.url, {
      method: options.method,
      headers: { ...options.headers, ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}) },
      lookup: (_hostname, lookupOptions, callback) => {
        // The address checked above, whatever DNS says now.
        if ((lookupOptions as { all?: boolean }).all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [pinned])
        else callback(null, pinned.address, pinned.family)
      }
    }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      const finish = (): void => { resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }) }
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
