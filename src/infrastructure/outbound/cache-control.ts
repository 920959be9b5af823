import type { IncomingHttpHeaders } from 'node:http'

/**
 * What an answer's headers allow a shared cache (RFC 9111) to do with it: the
 * verification cache serves every user of the service, so it is a shared
 * cache: `s-maxage` wins over `max-age` and `private` answers are not kept.
 * No heuristic freshness: an answer that states no lifetime is reused only
 * after revalidation (its validator), so a status list without
 * `Cache-Control` is asked about every time.
 */
export interface CachePolicy {
  /** May the answer be stored at all (no `no-store`, no `private`). */
  storable: boolean
  /** Seconds it stays fresh from when it was received, after `Age` and the ceiling; 0: revalidate before every use. */
  freshSeconds: number
  etag?: string
  lastModified?: string
}

function directives (header: string | undefined): Map<string, string | true> {
  const found = new Map<string, string | true>()
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined]
    if (name === '') continue
    found.set(name.toLowerCase(), value === undefined ? true : value.replace(/^"|"$/g, ''))
  }
  return found
}

const seconds = (value: string | true | undefined): number | undefined => {
  if (typeof value !== 'string' || !/^[0-9]{1,10}$/.test(value)) return undefined
  return Number(value)
}

/** Reads Cache-Control, Age, ETag and Last-Modified, with freshness capped at `ceilingSeconds`. */
export function cachePolicy (headers: IncomingHttpHeaders, ceilingSeconds: number): CachePolicy {
  const cacheControl = directives(headers['cache-control'])
  const storable = !cacheControl.has('no-store') && !cacheControl.has('private')
  const lifetime = cacheControl.has('no-cache') ? 0 : seconds(cacheControl.get('s-maxage')) ?? seconds(cacheControl.get('max-age')) ?? 0
  const age = seconds(typeof headers.age === 'string' ? headers.age : undefined) ?? 0
  const etag = typeof headers.etag === 'string' && headers.etag !== '' ? headers.etag : undefined
  const lastModified = typeof headers['last-modified'] === 'string' ? headers['last-modified'] : undefined
  return {
    storable,
    freshSeconds: Math.max(0, Math.min(lifetime, ceilingSeconds) - age),
    ...(etag !== undefined ? { etag } : {}),
    ...(lastModified !== undefined ? { lastModified } : {})
  }
}
