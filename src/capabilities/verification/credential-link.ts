import type { lookup } from 'node:dns/promises'
import type { Db } from '../../infrastructure/db/types.js'
import { parsePublicUrl } from '../../kernel/public-urls.js'
import { AppError } from '../../kernel/errors.js'
import { parseUntrustedJson } from '../../infrastructure/http/json-body.js'
import { findSignedVersion } from '../credentials/store.js'
import { fetchPastedCredential, FetchRefusedError } from './fetch-credential-url.js'
import { isCompactJws } from './parse-input.js'

/**
 * A credential given by its link (POST /credentials/verify with
 * `"verifiableCredential": "https://…"`): one of this service's own credential
 * URLs is read from the database, any other is fetched through the one
 * outbound client exactly as the /verify page fetches a pasted link
 * (fetch-credential-url.ts: https only, public addresses, no redirects, 5 s,
 * 256 KiB). What came back is JSON or a compact JWT; the URL it was fetched
 * from goes along, since an Open Badges 2.0 hosted assertion must carry it as
 * its `id`.
 */

export interface CredentialLinkDeps {
  sql: Db
  /** This deployment's PUBLIC_BASE_URL: its own links are read, not fetched. */
  publicBaseUrl: string
  allowLoopback: boolean
  resolveName?: typeof lookup
}

export interface ReadCredentialLink {
  credential: unknown
  /** Set when the credential came over the network: the URL it was served at. */
  fetchedFrom?: string
}

/** A string that is a link rather than a JWT or JSON text. */
export const isCredentialLink = (text: string): boolean => /^https?:\/\//i.test(text.trim())

export async function readCredentialLink (link: string, deps: CredentialLinkDeps): Promise<ReadCredentialLink> {
  const url = link.trim()
  const own = parsePublicUrl(deps.publicBaseUrl, url.replace(/\/versions\/(\d+)$/, ''))
  if (own?.kind === 'credential') {
    const version = /\/versions\/(\d+)$/.exec(url)?.[1]
    const stored = await findSignedVersion(deps.sql, own.id, version === undefined ? undefined : Number(version))
    if (stored === undefined) throw new FetchRefusedError('No credential of this service has that link.')
    return { credential: JSON.parse(stored.document) as unknown }
  }
  const text = (await fetchPastedCredential(url, { allowLoopback: deps.allowLoopback, ...(deps.resolveName !== undefined ? { resolveName: deps.resolveName } : {}) })).trim()
  if (!text.startsWith('{')) {
    if (!isCompactJws(text)) throw new FetchRefusedError('The document at the link is not a credential: neither JSON nor a compact JWT.')
    return { credential: text, fetchedFrom: url }
  }
  try {
    return { credential: parseUntrustedJson(text), fetchedFrom: url }
  } catch (error) {
    if (error instanceof AppError) throw new FetchRefusedError(`The document at the link is not a credential: ${error.code === 'malformed_json' ? 'it starts like JSON but is not valid JSON' : error.message}.`)
    throw error
  }
}
