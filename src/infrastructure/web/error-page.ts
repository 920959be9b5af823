import { Eta } from 'eta'
import { fileURLToPath } from 'node:url'

/**
 * The HTML page of an error, for a person in a browser: the site's layout,
 * the problem in words and the way back. Rendered here, below the
 * capabilities, because the one error handler (infrastructure/http) needs it
 * and must not import the presentation capability; it shares templates/ and
 * the layout with every other page.
 */
const eta = new Eta({ views: fileURLToPath(new URL('../../../templates/', import.meta.url)), cache: true, autoEscape: true, autoTrim: false })

/** What the layout shows of the site in every page's header and footer. */
export interface Brand { issuerName: string, logoUrl?: string | undefined }

export interface ErrorPage {
  status: number
  /** The problem's title, as the heading. */
  title: string
  /** The problem's detail: what went wrong with this request. */
  detail: string
  /** The methods the address answers (405). */
  allow?: readonly string[]
}

/** What a person can do about each kind of error, beyond what the problem says. */
function adviceFor (status: number): string | undefined {
  if (status === 404) return 'The address may be mistyped or cut short: if you followed a link to a badge, check that the whole link was copied.'
  if (status === 405) return 'The address exists, but not for this kind of request.'
  if (status === 406) return 'This address has no version in a format your browser accepts.'
  if (status === 410) return 'What was here has been removed for good.'
  if (status === 429) return 'Too many requests came from your connection in a short time. Wait a moment, then try again.'
  if (status >= 500) return 'This is a fault on our side, not yours. Try again in a few moments.'
  return undefined
}

export function renderErrorPage (brand: Brand, page: ErrorPage): string {
  return eta.render('./error', {
    title: `${page.title} (${page.status})`,
    heading: page.title,
    status: page.status,
    detail: page.detail,
    advice: adviceFor(page.status),
    ...(page.allow !== undefined ? { allow: page.allow.join(', ') } : {}),
    brand
  })
}
