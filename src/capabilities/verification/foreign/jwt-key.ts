import type { JWK } from 'jose'
import { isObject } from '../../../kernel/json.js'
import { asArray } from '../credential-fields.js'
import { methodKey, resolveForeignVerificationMethod, type ForeignKeyResolution } from './controller-document.js'
import { ForeignUnavailable, type ForeignFetcher } from './foreign-fetcher.js'

/**
 * The key of another issuer's VC-JWT, from its `kid` only (never `jku` or
 * `x5u`, which let the token choose where its key comes from):
 * - a `kid` that is an https URL or did:web with a fragment naming a
 *   verification method: its controller document (controller-document.ts);
 * - a `kid` URL whose document is a JWK set: the key with that `kid` (the
 *   whole URL or its fragment);
 * - a bare `kid` ("key-1") of an https issuer: the JWK set at the issuer's
 *   own origin, /.well-known/jwks.json.
 * A JWK set speaks for an origin, so its keys are bound to the issuer only
 * when the set is on the issuer's own origin: `controller` is then the issuer.
 */

function originOf (id: string): string | undefined {
  try {
    const url = new URL(id)
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined
  } catch {
    return undefined
  }
}

async function fromJwkSet (set: Record<string, unknown>, kid: string, setUrl: string, issuer: string | undefined): Promise<ForeignKeyResolution> {
  const fragment = kid.includes('#') ? kid.slice(kid.indexOf('#') + 1) : undefined
  const jwk = asArray(set.keys).find((k): k is JWK => isObject(k) && (k.kid === kid || (fragment !== undefined && k.kid === fragment)))
  if (jwk === undefined) return { ok: false, result: 'failed', message: `The JWK set at ${setUrl} has no key with the "kid" "${kid}".` }
  const key = await methodKey({ type: 'JsonWebKey', publicKeyJwk: jwk })
  if (typeof key === 'string') return { ok: false, result: 'failed', message: `The key "${kid}" in the JWK set at ${setUrl} cannot be used: ${key}.` }
  const setOrigin = originOf(setUrl)
  const controller = issuer !== undefined && setOrigin !== undefined && originOf(issuer) === setOrigin ? issuer : setOrigin ?? setUrl
  return { ok: true, key: { verificationMethod: kid, controller, documentUrl: setUrl, ...key } }
}

/** Resolves a foreign VC-JWT's `kid`; `issuer` is the credential's issuer id. */
export async function resolveForeignJwtKey (kid: string, issuer: string | undefined, fetcher: ForeignFetcher, allowLoopback: boolean): Promise<ForeignKeyResolution> {
  if (/^https?:\/\//.test(kid) || kid.startsWith('did:web:')) {
    const base = kid.split('#')[0]!
    if (/^https?:\/\//.test(base)) {
      // One fetch tells a JWK set from a controller document; the cache makes the second read free.
      let document: Record<string, unknown>
      try {
        document = (await fetcher.json(base, 'key')).document
      } catch (error) {
        if (error instanceof ForeignUnavailable) return { ok: false, result: 'unknown', message: `The key "${kid}" could not be retrieved: ${error.message}.` }
        throw error
      }
      if (Array.isArray(document.keys)) return await fromJwkSet(document, kid, base, issuer)
    }
    return await resolveForeignVerificationMethod(kid, fetcher, allowLoopback)
  }
  const origin = issuer === undefined ? undefined : originOf(issuer)
  if (origin === undefined) return { ok: false, result: 'failed', message: `The "kid" "${kid}" is not a URL, and the issuer "${issuer ?? 'none'}" is not an https URL whose JWK set could hold it.` }
  const setUrl = `${origin}/.well-known/jwks.json`
  try {
    return await fromJwkSet((await fetcher.json(setUrl, 'key')).document, kid, setUrl, issuer)
  } catch (error) {
    if (error instanceof ForeignUnavailable) return { ok: false, result: 'unknown', message: `The issuer's JWK set could not be retrieved: ${error.message}.` }
    throw error
  }
}
