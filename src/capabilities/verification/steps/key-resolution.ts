import { multikeyType, type MultikeyType } from '../multikey.js'
import type { VerificationSources } from '../sources.js'
import type { Recognition } from '../../registry/lookup.js'

/**
 * Resolves a Data Integrity verification method offline, the way the 1EdTech
 * validator does: the key is read from the identifier itself
 * (`<controller>#z6Mk…`, `#zDn…`, or a did:key) and the controller is the part
 * before `#` (or the DID). Whatever would need the network is `unknown`.
 */

export interface ResolvedKey {
  verificationMethod: string
  controller: string
  publicKeyMultibase: string
  keyType: MultikeyType
  /** Where the key was read, when it came from its controller's document over the network. */
  publishedAt?: string
}

export type KeyResolution =
  | { ok: true, key: ResolvedKey }
  | { ok: false, result: 'failed' | 'unknown', message: string }

const fail = (message: string): KeyResolution => ({ ok: false, result: 'failed', message })
const cannot = (message: string): KeyResolution => ({ ok: false, result: 'unknown', message })

function fromMultibase (verificationMethod: string, controller: string, publicKeyMultibase: string): KeyResolution {
  const keyType = multikeyType(publicKeyMultibase)
  if (keyType === undefined) return fail(`The verification method "${verificationMethod}" does not hold a well-formed Ed25519 or P-256 public key.`)
  return { ok: true, key: { verificationMethod, controller, publicKeyMultibase, keyType } }
}

/** Reads the key and its controller out of a verification method id. */
export function resolveVerificationMethod (verificationMethod: unknown): KeyResolution {
  if (typeof verificationMethod !== 'string' || verificationMethod === '') return fail('The proof has no "verificationMethod".')
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(verificationMethod)?.[1]?.toLowerCase()
  if (scheme === undefined) return fail(`The verification method "${verificationMethod}" is not a URL.`)
  const hashAt = verificationMethod.indexOf('#')
  const base = hashAt === -1 ? verificationMethod : verificationMethod.slice(0, hashAt)
  const fragment = hashAt === -1 ? undefined : verificationMethod.slice(hashAt + 1)

  if (scheme === 'did') {
    const method = /^did:([a-z0-9]+):/.exec(base)?.[1]
    if (method === 'key') {
      const identifier = base.slice('did:key:'.length)
      if (fragment !== undefined && fragment !== identifier) return fail(`The did:key verification method "${verificationMethod}" names a fragment that is not its own key.`)
      return fromMultibase(verificationMethod, base, identifier)
    }
    return cannot(`The verification method "${verificationMethod}" uses the DID method "${method ?? '?'}", which cannot be resolved without the network.`)
  }
  if (scheme === 'http' || scheme === 'https' || scheme === 'urn') {
    if (fragment !== undefined && /^z(6Mk|Dn)/.test(fragment)) return fromMultibase(verificationMethod, base, fragment)
    return cannot(`The key "${verificationMethod}" would have to be fetched over the network.`)
  }
  return fail(`The verification method "${verificationMethod}" uses the unsupported scheme "${scheme}".`)
}

export interface Binding {
  result: 'passed' | 'failed' | 'unknown'
  message: string
  reason?: 'self_asserted'
  warning?: string
  /** The registry entry that made a foreign issuer's key count as its own (set only then). */
  recognisedIssuer?: Recognition
}

/** How the key_binding message names the registry entry that recognised an issuer. */
export const recognisedBy = (issuer: string, recognition: Recognition): string =>
  `the issuer "${issuer}" is recognised by this deployment as "${recognition.name}" (registry entry ${recognition.entryId})`

/** The failure for an id on our host that is not spelt as we spell our own. */
export const impostorMessage = (what: string, id: string): string =>
  `The ${what} "${id}" names this service's address but is not the exact id of anything it publishes; this service never signs such an id, so the credential is not genuine.`

/**
 * What a self-asserted key (did:key, `#z6Mk…`) proves about a foreign issuer:
 * that whoever holds the key signed, not who that is. Passed only when the
 * registry of recognised issuers names the issuer.
 */
export async function selfAssertedBinding (issuer: string, sources: VerificationSources, keyDescription: string): Promise<Binding> {
  const recognition = await sources.recognisedIssuer(issuer)
  if (recognition !== undefined) {
    return { result: 'passed', message: `${capitalised(recognisedBy(issuer, recognition))}, and ${keyDescription} is its own.`, recognisedIssuer: recognition }
  }
  return {
    result: 'unknown',
    reason: 'self_asserted',
    message: `${capitalised(keyDescription)} is named by the credential itself; nothing published by "${issuer}" was consulted, so who issued it is not established (this deployment's registry does not recognise the issuer).`
  }
}

/**
 * A key the issuer's own document lists (read over the network): the key is
 * the issuer's, but the issuer is only who its document says it is. Passed
 * when the registry recognises the issuer; otherwise unverified_issuer.
 */
export async function publishedBinding (issuer: string, sources: VerificationSources, keyId: string, documentUrl: string): Promise<Binding> {
  const recognition = await sources.recognisedIssuer(issuer)
  if (recognition !== undefined) {
    return { result: 'passed', message: `The key "${keyId}" is published by the issuer "${issuer}" (${documentUrl}), and ${recognisedBy(issuer, recognition)}.`, recognisedIssuer: recognition }
  }
  return {
    result: 'unknown',
    reason: 'self_asserted',
    message: `The key "${keyId}" is published by "${issuer}" itself (${documentUrl}), so the issuer signed it; this deployment's registry does not recognise that issuer, so who it is is not established.`
  }
}

const capitalised = (text: string): string => `${text.charAt(0).toUpperCase()}${text.slice(1)}`

/**
 * Is this key allowed to speak for the credential's issuer? Its controller
 * must be the issuer; for this service's own issuers the key must also be
 * one we published and have not marked compromised, so a forged credential
 * that names us but carries its own key in the fragment is caught. Any other
 * spelling of our address is a forgery, never a "foreign" issuer.
 */
export async function bindDataIntegrityKey (key: ResolvedKey, issuer: string | undefined, sources: VerificationSources, signature: { created?: string, value?: string } = {}): Promise<Binding> {
  if (issuer === undefined) return { result: 'failed', message: 'The credential names no issuer to bind the key to.' }
  const issuerOwnership = sources.ownership(issuer)
  const controllerOwnership = sources.ownership(key.controller)
  if (issuerOwnership === 'impostor') return { result: 'failed', message: impostorMessage('issuer id', issuer) }
  if (controllerOwnership === 'impostor') return { result: 'failed', message: impostorMessage('verification method', key.verificationMethod) }
  if (key.controller !== issuer) {
    if (issuerOwnership === 'own' || controllerOwnership === 'own') return { result: 'failed', message: `The signing key is controlled by "${key.controller}", not by the issuer "${issuer}".` }
    // Only the issuer's own document could say that it uses this key (the
    // 1EdTech validator accepts a did:key whatever the issuer); without it the
    // binding is not established, so the answer is unknown, never valid.
    return { result: 'unknown', message: `The signing key is controlled by "${key.controller}", not by the issuer "${issuer}", and nothing available offline links the two.` }
  }
  if (issuerOwnership === 'foreign') return key.publishedAt !== undefined ? await publishedBinding(issuer, sources, key.verificationMethod, key.publishedAt) : await selfAssertedBinding(issuer, sources, `the key "${key.verificationMethod}"`)
  const published = key.keyType === 'Ed25519' ? await sources.findOwnEd25519Key(issuer, key.publicKeyMultibase) : undefined
  if (published === undefined) return { result: 'failed', message: `The key "${key.publicKeyMultibase}" is not a key published for the issuer "${issuer}".` }
  if (published.status === 'compromised') return await withdrawnKeyBinding(published.id, published.compromisedAt, signature, sources)
  return { result: 'passed', message: `The signing key "${published.id}" is published by the issuer (${published.status}).` }
}

/**
 * A key withdrawn as compromised "since" a moment: what it signed after that
 * is refused. What it signed before is still good only when the signature is
 * one this service stored itself, since whoever holds the key can write any
 * "created" date; the answer then says so in a warning.
 */
export async function withdrawnKeyBinding (keyId: string, since: Date | undefined, signature: { created?: string, value?: string }, sources: VerificationSources): Promise<Binding> {
  const withdrawn = since === undefined ? '' : ` on ${since.toISOString()}`
  const created = signature.created === undefined ? NaN : Date.parse(signature.created)
  if (since === undefined || Number.isNaN(created) || created >= since.getTime()) {
    return { result: 'failed', message: `The key "${keyId}" was withdrawn as compromised${withdrawn}; this signature ${Number.isNaN(created) ? 'carries no signing time' : `is dated ${signature.created ?? ''}`}, so it cannot be trusted.` }
  }
  if (signature.value === undefined || !await sources.isOwnSignature(signature.value)) {
    return { result: 'failed', message: `The key "${keyId}" was withdrawn as compromised${withdrawn}; this signature is dated before that, but it is not one the issuer made, so it is a forgery.` }
  }
  return {
    result: 'passed',
    message: `The signing key "${keyId}" is the issuer's; it was withdrawn${withdrawn}, after this credential was signed.`,
    warning: `Signed on ${signature.created ?? ''} with the key "${keyId}", which was withdrawn as compromised${withdrawn}; this signature is on the issuer's own record, so it stands. A newer version may exist.`
  }
}
