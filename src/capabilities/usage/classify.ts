import { ID_CHARS } from '../../kernel/ids.js'
import type { UsageHit, UsageKind } from './kinds.js'

/** What the counting hook knows of an answered request; pure data, so the mapping is testable alone. */
export interface AnsweredRequest {
  method: string
  /** The route's pattern (request.routeOptions.url), undefined when no route matched. */
  route: string | undefined
  status: number
  contentType: string | undefined
  /** Set by the holder page when it answers "this credential is private" instead of the page. */
  robots: string | undefined
  userAgent: string | undefined
  params: unknown
  /** What a verify route verified (request.verified): the credential's id, and whether it came as a badge image. */
  verified: { credentialId?: string, fromImage: boolean } | undefined
}

const DOWNLOADS: Record<string, UsageKind> = {
  'credential.jsonld': 'download_json',
  'credential.jwt': 'download_jwt',
  'certificate.pdf': 'download_pdf',
  'wallet-card.pdf': 'download_pdf',
  'badge.png': 'download_image',
  'badge.svg': 'download_image'
  // preview.png is not a download: it is the og:image that link previews (LinkedIn, chat apps) fetch.
}

/**
 * Agents that announce themselves as robots (search engines, link previewers,
 * monitors): their page views, clicks and downloads are not a person's.
 * API verifications are counted whoever asks: machines are the API's users.
 */
const BOT = /bot\b|bot\/|crawl|spider|slurp|facebookexternalhit|embedly|preview|monitor|headless|curl\/|wget\//i

const CREDENTIAL_PATH = new RegExp(`^/credentials/([${ID_CHARS}]{1,64})(?:/versions/[0-9]{1,9})?/?$`)

/** Our credential's id, when `url` is one of this service's credential (or version) URLs. */
export function ownCredentialId (url: string, publicBaseUrl: string): string | undefined {
  if (!url.startsWith(publicBaseUrl + '/')) return undefined
  const rest = url.slice(publicBaseUrl.length).split(/[?#]/, 1)[0] ?? ''
  return CREDENTIAL_PATH.exec(rest)?.[1]
}

const idParam = (params: unknown): string | undefined => {
  const id = (params as { id?: unknown } | undefined)?.id
  return typeof id === 'string' ? id : undefined
}

const hit = (credentialId: string | undefined, kind: UsageKind): UsageHit | undefined =>
  credentialId === undefined ? undefined : { credentialId, kind }

/**
 * Maps an answered request to what it counts for, or undefined. Only answers
 * that served what was asked count (2xx and 3xx); a verification that
 * examined the credential and found it not valid (422) counts too: someone
 * checked it. Unknown credentials are dropped when the counts are written.
 */
export function classify (r: AnsweredRequest, publicBaseUrl: string): UsageHit | undefined {
  if (r.route === undefined) return undefined
  const served = r.status >= 200 && r.status < 400
  const examined = served || r.status === 422
  const person = r.userAgent === undefined || !BOT.test(r.userAgent)
  const key = `${r.method} ${r.route}`
  switch (key) {
    case 'GET /credentials/:id':
    case 'GET /credentials/:id/versions/:version':
      // The HTML page only (not the JSON-LD at the same URL), and not the "this credential is private" page.
      if (!served || !person || !(r.contentType ?? '').startsWith('text/html') || (r.robots ?? '').includes('noindex')) return undefined
      return hit(idParam(r.params), 'page_view')
    case 'GET /credentials/:id/:file':
    case 'GET /credentials/:id/versions/:version/:file': {
      const file = (r.params as { file?: unknown } | undefined)?.file
      const kind = typeof file === 'string' ? DOWNLOADS[file] : undefined
      return served && person && kind !== undefined ? hit(idParam(r.params), kind) : undefined
    }
    case 'GET /credentials/:id/share/linkedin':
      return served && person ? hit(idParam(r.params), 'linkedin_click') : undefined
    case 'GET /credentials/:id/verification':
      return examined ? hit(idParam(r.params), 'verification_api') : undefined
    case 'POST /credentials/verify':
    case 'POST /verify': {
      // Only our own credentials count; the verifier has said which credential it examined.
      const id = r.verified?.credentialId
      if (!examined || id === undefined) return undefined
      const kind = r.verified?.fromImage === true ? 'verification_image' : r.route === '/verify' ? 'verification_page' : 'verification_api'
      return hit(ownCredentialId(id, publicBaseUrl), kind)
    }
    default:
      return undefined
  }
}
