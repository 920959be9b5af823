import { lookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { isBlockedAddress } from '../../holder-pages/fetch-credential.js'

export const WEBHOOK_LIMITS = { timeoutMs: 10_000, maxResponseBytes: 64 * 1024, storedResponseChars: 2000 }

export class WebhookTargetRefused extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WebhookTargetRefused'
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1'])

/**
 * Why a webhook URL is refused, or undefined when it is acceptable: https
 * only (http://localhost too when the development setting allows it), no
 * credentials in the URL, no private, loopback or link-local address literal.
 * Names are resolved and checked again at each delivery.
 */
export function webhookUrlProblem (raw: string, allowHttpLocalhost: boolean): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'must be an absolute URL'
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const devLoopback = allowHttpLocalhost && LOOPBACK_NAMES.has(host)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && devLoopback)) return 'must be an https URL'
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password'
  if (url.hash !== '') return 'must not have a fragment'
  if (!devLoopback && isIP(host) !== 0 && isBlockedAddress(host)) return 'must not point at a private, loopback or link-local address'
  return undefined
}

/**
 * POSTs one webhook: the target's addresses are resolved and every one must
 * be public (loopback only under the development setting), the connection is
 * pinned to the checked address, redirects are not followed, the whole
 * exchange has a deadline, and at most 64 KiB of the answer is read.
 */
export async function postWebhook (raw: string, body: string, headers: Record<string, string>, options: { allowHttpLocalhost: boolean, resolveName?: typeof lookup }): Promise<{ status: number, body: string }> {
  const problem = webhookUrlProblem(raw, options.allowHttpLocalhost)
  if (problem !== undefined) throw new WebhookTargetRefused(`The webhook URL ${problem}.`)
  const url = new URL(raw)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const devLoopback = options.allowHttpLocalhost && LOOPBACK_NAMES.has(host)
  const addresses = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await (options.resolveName ?? lookup)(host, { all: true }).catch(() => [])
  if (addresses.length === 0) throw new WebhookTargetRefused(`The host "${host}" could not be resolved.`)
  if (!devLoopback && addresses.some((a) => isBlockedAddress(a.address))) throw new WebhookTargetRefused(`The host "${host}" resolves to a private or local address.`)
  const [pinned] = addresses as [{ address: string, family: number }]
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Tessera webhooks', 'content-length': Buffer.byteLength(body), ...headers },
      timeout: WEBHOOK_LIMITS.timeoutMs,
      lookup: (_hostname, lookupOptions, callback) => {
        if ((lookupOptions as { all?: boolean }).all === true) (callback as unknown as (e: null, a: Array<{ address: string, family: number }>) => void)(null, [pinned])
        else callback(null, pinned.address, pinned.family)
      }
    }, (response) => {
      const chunks: Buffer[] = []
      let size = 0
      const finish = (): void => { resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, WEBHOOK_LIMITS.storedResponseChars) }) }
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= WEBHOOK_LIMITS.maxResponseBytes) chunks.push(chunk)
        else { response.destroy(); finish() }
      })
      response.on('end', finish)
      response.on('error', (error) => { reject(error) })
    })
    const deadline = setTimeout(() => { req.destroy(new Error(`no answer within ${WEBHOOK_LIMITS.timeoutMs / 1000} s`)) }, WEBHOOK_LIMITS.timeoutMs)
    req.on('close', () => { clearTimeout(deadline) })
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${WEBHOOK_LIMITS.timeoutMs / 1000} s`)) })
    req.on('error', reject)
    req.end(body)
  })
}
