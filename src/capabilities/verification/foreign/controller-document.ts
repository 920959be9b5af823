import type { JWK } from 'jose'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey'
import { isObject } from '../../../kernel/json.js'
import { asArray } from '../credential-fields.js'
import { multikeyToJwk, multikeyType } from '../multikey.js'
import { didWebDocumentUrl } from './did-web.js'
import { ForeignUnavailable, type ForeignFetcher } from './foreign-fetcher.js'

/**
 * Another issuer's verification method, dereferenced (W3C Controlled
 * Identifiers 1.0, Data Integrity 1.0 "Retrieve Verification Method"): an
 * https URL or a did:web, with a fragment naming the method inside the
 * controller document, or an https URL serving the method itself, whose
 * `controller` document must list it. The method must be listed under
 * `assertionMethod` (the purpose credentials are signed for), and its
 * `controller` must be the document that lists it, so a document cannot
 * adopt someone else's key. Whether that controller is the credential's
 * issuer is the key binding's business (key-resolution.ts).
 */

type Json = Record<string, unknown>

export interface ForeignKey {
  verificationMethod: string
  /** The id of the controller document that lists the method under assertionMethod. */
  controller: string
  keyType: 'Ed25519' | 'P-256' | 'RSA'
  /** Present for Ed25519 and P-256 (what Data Integrity suites take). */
  publicKeyMultibase?: string
  publicJwk: JWK
  /** Where the controller document was read. */
  documentUrl: string
}

export type ForeignKeyResolution =
  | { ok: true, key: ForeignKey }
  | { ok: false, result: 'failed' | 'unknown', message: string }

const fail = (message: string): ForeignKeyResolution => ({ ok: false, result: 'failed', message })
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** Where a controller document (a DID or an https URL, no fragment) is read, or undefined for other schemes. */
export function controllerDocumentUrl (id: string, allowLoopback: boolean): URL | undefined {
  if (id.startsWith('did:web:')) return didWebDocumentUrl(id, allowLoopback)
  if (!/^https?:\/\//.test(id) || id.includes('#')) return undefined
  try {
    return new URL(id)
  } catch {
    return undefined
  }
}

/** `#key-1` and relative ids resolved against the document's id. */
function absolute (id: unknown, base: string): string | undefined {
  if (typeof id !== 'string') return undefined
  if (id.startsWith('#')) return `${base}${id}`
  if (base.startsWith('did:')) return id
  try {
    return new URL(id, base).href
  } catch {
    return undefined
  }
}

/** The public key a verification method holds, in both forms the verifier uses. */
export async function methodKey (method: Json): Promise<Pick<ForeignKey, 'keyType' | 'publicKeyMultibase' | 'publicJwk'> | string> {
  const type = method.type
  if ((type === 'Multikey' || type === 'Ed25519VerificationKey2020') && typeof method.publicKeyMultibase === 'string') {
    const keyType = multikeyType(method.publicKeyMultibase)
    if (keyType === undefined || (type === 'Ed25519VerificationKey2020' && keyType !== 'Ed25519')) return `its "publicKeyMultibase" is not a well-formed ${type === 'Multikey' ? 'Ed25519 or P-256' : 'Ed25519'} key`
    const publicJwk = await multikeyToJwk(method.publicKeyMultibase)
    return publicJwk === undefined ? 'its key cannot be read' : { keyType, publicKeyMultibase: method.publicKeyMultibase, publicJwk }
  }
  if ((type === 'JsonWebKey' || type === 'JsonWebKey2020') && isObject(method.publicKeyJwk)) {
    const jwk = method.publicKeyJwk as JWK
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) return 'its "publicKeyJwk" holds private key material'
    if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string') return { keyType: 'RSA', publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e } }
    try {
      if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
        const pair = await Ed25519Multikey.fromJwk({ jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x } })
        return { keyType: 'Ed25519', publicKeyMultibase: pair.publicKeyMultibase, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x } }
      }
      if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
        const pair = await EcdsaMultikey.fromJwk({ jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } })
        return { keyType: 'P-256', publicKeyMultibase: pair.publicKeyMultibase, publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } }
      }
    } catch {
      return 'its "publicKeyJwk" is not a well-formed key'
    }
    return `its "publicKeyJwk" is a ${String(jwk.kty)} ${String(jwk.crv ?? '')} key; Ed25519, P-256 and RSA are accepted`
  }
  return `its type "${String(type)}" is not Multikey, JsonWebKey or Ed25519VerificationKey2020 with its key`
}

async function read (fetcher: ForeignFetcher, url: URL): Promise<Json | string> {
  try {
    return (await fetcher.json(url.href, 'key')).document
  } catch (error) {
    if (error instanceof ForeignUnavailable) return error.message
    throw error
  }
}

/** The method `id` as a controller document lists it under assertionMethod, with its key. */
async function fromController (controllerDocument: Json, controllerId: string, id: string, url: URL): Promise<ForeignKeyResolution> {
  const listed = asArray(controllerDocument.assertionMethod).some((m) => absolute(isObject(m) ? m.id : m, controllerId) === id)
  if (!listed) return fail(`The controller document at ${url.href} does not list "${id}" under "assertionMethod", so it may not sign credentials.`)
  const method = [...asArray(controllerDocument.verificationMethod), ...asArray(controllerDocument.assertionMethod)]
    .find((m): m is Json => isObject(m) && absolute(m.id, controllerId) === id)
  return method === undefined ? fail(`The controller document at ${url.href} names "${id}" but does not describe it.`) : await withKey(method, controllerId, id, url)
}

async function withKey (method: Json, controllerId: string, id: string, url: URL): Promise<ForeignKeyResolution> {
  if (absolute(method.controller, controllerId) !== controllerId) return fail(`The verification method "${id}" names "${String(method.controller)}" as its controller, not the document that lists it (${controllerId}).`)
  if (method.revoked !== undefined) return fail(`The verification method "${id}" was revoked by its controller (${String(method.revoked)}).`)
  const key = await methodKey(method)
  if (typeof key === 'string') return fail(`The verification method "${id}" cannot be used: ${key}.`)
  return { ok: true, key: { verificationMethod: id, controller: controllerId, documentUrl: url.href, ...key } }
}

/**
 * Dereferences an https or did:web verification method through `fetcher`:
 * `unknown` when a document cannot be had, `failed` when what was read does
 * not hold together.
 */
export async function resolveForeignVerificationMethod (id: string, fetcher: ForeignFetcher, allowLoopback: boolean): Promise<ForeignKeyResolution> {
  const hashAt = id.indexOf('#')
  const base = hashAt === -1 ? id : id.slice(0, hashAt)
  const url = controllerDocumentUrl(base, allowLoopback)
  if (url === undefined) return fail(`The verification method "${id}" is neither an https URL nor a well-formed did:web.`)
  const document = await read(fetcher, url)
  if (typeof document === 'string') return { ok: false, result: 'unknown', message: `The key "${id}" could not be retrieved: ${document}.` }
  if (document.id === base) return await fromController(document, base, id, url)
  // An https URL serving the method itself (no fragment): its controller document must list it.
  if (hashAt === -1 && document.id === id && typeof document.controller === 'string') {
    const controllerUrl = controllerDocumentUrl(document.controller, allowLoopback)
    if (controllerUrl === undefined) return fail(`The verification method "${id}" names a controller "${document.controller}" that is neither an https URL nor a did:web.`)
    const controller = await read(fetcher, controllerUrl)
    if (typeof controller === 'string') return { ok: false, result: 'unknown', message: `The controller document of "${id}" could not be retrieved: ${controller}.` }
    if (controller.id !== document.controller) return fail(`The document at ${controllerUrl.href} says its id is "${String(controller.id)}", not "${document.controller}".`)
    const listed = await fromController(controller, document.controller, id, controllerUrl)
    // The method as served at its own URL is the key; the controller's copy only vouches for it.
    return listed.ok ? await withKey(document, document.controller, id, url) : listed
  }
  return fail(`The document at ${url.href} says its id is "${String(document.id)}", not "${base}".`)
}
