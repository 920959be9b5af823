import type { lookup } from 'node:dns/promises'
import { isFetchableScheme, outboundRequest, OutboundRefused } from '../../infrastructure/outbound/outbound.js'

/**
 * Fetches a credential from a pasted https URL through the service's one
 * outbound client (infrastructure/outbound: public addresses only, pinned, no
 * redirects), with a short timeout and a size cap. The service's own URLs
 * never reach this (they are read from the database). Used by the /verify
 * page (a pasted link) and by badge orders (the link given as evidence).
 */

export const FETCH_LIMITS = { timeoutMs: 5000, maxBytes: 256 * 1024 }

export class FetchRefusedError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FetchRefusedError'
  }
}

export async function fetchPastedCredential (raw: string, options: { allowLoopback: boolean, resolveName?: typeof lookup }): Promise<string> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new FetchRefusedError('That is not a link.')
  }
  // http only for loopback under the development switch (OUTBOUND_ALLOW_LOOPBACK).
  if (!isFetchableScheme(url, options.allowLoopback)) throw new FetchRefusedError('Only https links can be fetched.')
  if (url.username !== '' || url.password !== '') throw new FetchRefusedError('Links with a user name or password are not fetched.')
  let answer: { status: number, body: Buffer }
  try {
    answer = await outboundRequest({
      url,
      method: 'GET',
      headers: { accept: 'application/vc+ld+json, application/ld+json, application/vc+jwt, application/json;q=0.9, text/plain;q=0.5', 'user-agent': 'Tessera verifier' },
      timeoutMs: FETCH_LIMITS.timeoutMs,
      maxBytes: FETCH_LIMITS.maxBytes,
      tooLarge: 'refuse',
      allowLoopback: options.allowLoopback,
      ...(options.resolveName !== undefined ? { resolveName: options.resolveName } : {})
    })
  } catch (error) {
    throw new FetchRefusedError(refusal(error))
  }
  if (answer.status >= 300 && answer.status < 400) throw new FetchRefusedError(`The link redirects elsewhere (HTTP ${answer.status}); redirects are not followed. Paste the final link.`)
  if (answer.status !== 200) throw new FetchRefusedError(`The link answered HTTP ${answer.status}.`)
  return answer.body.toString('utf8')
}

function refusal (error: unknown): string {
  if (!(error instanceof OutboundRefused)) return `The link could not be fetched: ${error instanceof Error ? error.message : String(error)}.`
  switch (error.reason) {
    case 'unresolvable': return `The host "${error.host}" could not be found.`
    case 'private-address': return `The host "${error.host}" is on a private or local network; only public https addresses are fetched.`
    case 'too-large': return `The document at the link is larger than ${FETCH_LIMITS.maxBytes / 1024} KiB.`
    case 'timeout': return `The link did not answer within ${FETCH_LIMITS.timeoutMs / 1000} seconds.`
  }
}
