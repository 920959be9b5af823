import type { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { isBlockedAddress, isDevLoopbackUrl, outboundRequest, OutboundRefused } from '../../../infrastructure/outbound/outbound.js'

export const WEBHOOK_LIMITS = { timeoutMs: 10_000, maxResponseBytes: 64 * 1024, storedResponseChars: 2000 }

export class WebhookTargetRefused extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WebhookTargetRefused'
  }
}

/**
 * Why a webhook URL is refused, or undefined when it is acceptable: https
 * only (http://localhost too under the development switch OUTBOUND_ALLOW_LOOPBACK), no
 * credentials in the URL, no private, loopback or link-local address literal.
 * Names are resolved and checked again at each delivery.
 */
export function webhookUrlProblem (raw: string, allowLoopback: boolean): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'must be an absolute URL'
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const devLoopback = isDevLoopbackUrl(url, allowLoopback)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && devLoopback)) return 'must be an https URL'
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password'
  if (url.hash !== '') return 'must not have a fragment'
  if (!devLoopback && isIP(host) !== 0 && isBlockedAddress(host)) return 'must not point at a private, loopback or link-local address'
  return undefined
}

/**
 * POSTs one webhook through the service's outbound client (http/outbound.ts:
 * public addresses only, pinned, no redirects), with a 10 s deadline; at most
 * 64 KiB of the answer is read and its start kept for the delivery log.
 */
export async function postWebhook (raw: string, body: string, headers: Record<string, string>, options: { allowLoopback: boolean, resolveName?: typeof lookup }): Promise<{ status: number, body: string }> {
  const problem = webhookUrlProblem(raw, options.allowLoopback)
  if (problem !== undefined) throw new WebhookTargetRefused(`The webhook URL ${problem}.`)
  const url = new URL(raw)
  try {
    const answer = await outboundRequest({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Tessera webhooks', ...headers },
      body,
      timeoutMs: WEBHOOK_LIMITS.timeoutMs,
      maxBytes: WEBHOOK_LIMITS.maxResponseBytes,
      tooLarge: 'keep-start',
      allowLoopback: options.allowLoopback,
      ...(options.resolveName !== undefined ? { resolveName: options.resolveName } : {})
    })
    return { status: answer.status, body: answer.body.toString('utf8').slice(0, WEBHOOK_LIMITS.storedResponseChars) }
  } catch (error) {
    if (!(error instanceof OutboundRefused)) throw error
    const messages = {
      unresolvable: `The host "${error.host}" could not be resolved.`,
      'private-address': `The host "${error.host}" resolves to a private or local address.`,
      'too-large': 'The answer was too large.',
      timeout: `No answer within ${WEBHOOK_LIMITS.timeoutMs / 1000} s.`
    }
    throw new WebhookTargetRefused(messages[error.reason])
  }
}
