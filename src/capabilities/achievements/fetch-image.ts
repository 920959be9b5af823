import type { lookup } from 'node:dns/promises'
import { isFetchableScheme, outboundRequest, OutboundRefused } from '../../infrastructure/outbound/outbound.js'
import { AppError } from '../../kernel/errors.js'
import { checkImage } from './check-image.js'

/**
 * An achievement image given as an https URL is fetched once, when the
 * achievement is defined or edited, through the service's one outbound client
 * (public addresses only, pinned, no redirects, deadline, size cap), checked
 * (check-image.ts) and stored as a data: URI. Credentials then carry the
 * image itself: it cannot change or vanish under a signed badge, and the
 * service never fetches it again.
 */

/**
 * The largest image fetched. The stored data: URI goes into every credential
 * of the achievement and into every baked badge, whose credential is at most
 * 256 KiB (bake/png.ts): 128 KiB of image is about 171 KiB of base64.
 */
export const IMAGE_LIMITS = { timeoutMs: 10_000, maxBytes: 128 * 1024 }

export interface ImageFetchOptions {
  /** The development switch (OUTBOUND_ALLOW_LOOPBACK): http://localhost and loopback addresses may be fetched. */
  allowLoopback: boolean
  resolveName?: typeof lookup
}

export type ImageRefusalReason = 'not-https' | 'unresolvable' | 'private-address' | 'unreachable' | 'timeout' | 'redirect' | 'http-status' | 'too-large' | 'not-an-image'

const refused = (url: string, reason: ImageRefusalReason, why: string): AppError =>
  new AppError('achievement_image_refused', `The image at "${url}" was not stored: ${why}.`, { url, reason })

/** Fetches and checks an https image; the data: URI to store, or an achievement_image_refused AppError naming the URL and why. */
export async function fetchAchievementImage (raw: string, options: ImageFetchOptions): Promise<string> {
  const url = new URL(raw)
  if (!isFetchableScheme(url, options.allowLoopback)) throw refused(raw, 'not-https', 'only https images are fetched')
  if (url.username !== '' || url.password !== '') throw refused(raw, 'not-https', 'a URL with a user name or password is not fetched')
  let answer: { status: number, body: Buffer }
  try {
    answer = await outboundRequest({
      url,
      method: 'GET',
      headers: { accept: 'image/png, image/svg+xml', 'user-agent': 'Tessera achievement images' },
      timeoutMs: IMAGE_LIMITS.timeoutMs,
      maxBytes: IMAGE_LIMITS.maxBytes,
      tooLarge: 'refuse',
      allowLoopback: options.allowLoopback,
      ...(options.resolveName !== undefined ? { resolveName: options.resolveName } : {})
    })
  } catch (error) {
    if (!(error instanceof OutboundRefused)) throw refused(raw, 'unreachable', `it could not be fetched (${error instanceof Error ? error.message : String(error)})`)
    switch (error.reason) {
      case 'unresolvable': throw refused(raw, 'unresolvable', `the host "${error.host}" could not be found`)
      case 'private-address': throw refused(raw, 'private-address', `the host "${error.host}" is on a private or local network; only public addresses are fetched`)
      case 'too-large': throw refused(raw, 'too-large', `it is larger than ${IMAGE_LIMITS.maxBytes / 1024} KiB`)
      case 'timeout': throw refused(raw, 'timeout', `it did not arrive within ${IMAGE_LIMITS.timeoutMs / 1000} seconds`)
    }
  }
  if (answer.status >= 300 && answer.status < 400) throw refused(raw, 'redirect', `it redirects elsewhere (HTTP ${answer.status}); redirects are not followed, give the final URL`)
  if (answer.status !== 200) throw refused(raw, 'http-status', `the server answered HTTP ${answer.status}`)
  const check = checkImage(answer.body)
  if (!check.ok) throw refused(raw, 'not-an-image', check.why)
  return `data:${check.mediaType};base64,${answer.body.toString('base64')}`
}

/** An image as the request gave it, made ready to store: an https one fetched, a data: one kept as given. */
export async function storableImage (image: { id: string, caption?: string }, options: ImageFetchOptions & { now: Date }): Promise<{ image: { id: string, caption?: string }, imageFetchedFrom: string | null, imageFetchedAt: Date | null }> {
  if (image.id.startsWith('data:')) return { image, imageFetchedFrom: null, imageFetchedAt: null }
  const id = await fetchAchievementImage(image.id, options)
  return { image: { ...image, id }, imageFetchedFrom: image.id, imageFetchedAt: options.now }
}
