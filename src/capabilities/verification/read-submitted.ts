import { BakingError, extractFromPng, isPng } from '../bake/png.js'
import { extractFromSvg } from '../bake/svg.js'
import { isCredentialLink, readCredentialLink, type CredentialLinkDeps, type ReadCredentialLink } from './credential-link.js'
import { FetchRefusedError } from './fetch-credential-url.js'

/**
 * A credential as a person submits it, before it is verified: pasted text (one
 * of our own credential links, another https link, JSON or a compact JWT) or
 * an uploaded badge image (PNG or SVG with the credential baked in). Used by
 * the /verify page and by continuing-education evidence.
 *
 * Throws FetchRefusedError when a link is refused or text starting like JSON
 * is not JSON, and BakingError when an image holds no credential; anything
 * else read is handed to the verifier as is.
 */

/**
 * Pasted text. A link is read as the verify API reads one (credential-link.ts:
 * our own links from the database, others through the outbound client), and
 * the URL it was fetched from goes along (an OB 2.0 hosted assertion's id must be it).
 */
export async function readSubmittedText (text: string, deps: CredentialLinkDeps): Promise<ReadCredentialLink> {
  const trimmed = text.trim()
  if (isCredentialLink(trimmed)) return await readCredentialLink(trimmed, deps)
  return { credential: parseText(trimmed) }
}

/** The credential baked in an uploaded PNG or SVG. */
export function readSubmittedImage (bytes: Buffer): unknown {
  const text = isPng(bytes) ? extractFromPng(bytes) : extractFromSvg(bytes.toString('utf8'))
  if (text === undefined) throw new BakingError('The image has no credential baked in it.')
  return parseText(text)
}

function parseText (text: string): unknown {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as unknown
    } catch {
      throw new FetchRefusedError('The text starts like JSON but is not valid JSON.')
    }
  }
  return trimmed
}
