import { isObject } from '../../kernel/json.js'

/**
 * Tells the three accepted input shapes apart: a JSON-LD credential object, a
 * compact VC-JWT, or a VCDM 2.0 EnvelopedVerifiableCredential wrapping one.
 */

export type ParsedInput =
  | { kind: 'json-ld', credential: Record<string, unknown> }
  | { kind: 'jwt', jwt: string }
  | { kind: 'unparseable', reason: string }

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const ENVELOPE_PREFIX = 'data:application/vc+jwt,'

/** A compact JWS's payload as JSON, decoded without trusting it; undefined when it is not JSON. */
export function decodeJwsPayload (jws: string): unknown {
  try {
    return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/** Is this string shaped like a compact JWS (three base64url parts)? It says nothing about the signature. */
export function isCompactJws (value: string): boolean {
  return COMPACT_JWS.test(value.trim())
}

const hasType = (value: Record<string, unknown>, type: string): boolean =>
  value.type === type || (Array.isArray(value.type) && value.type.includes(type))

/** Classifies the input without trusting any of it. */
export function parseInput (input: unknown): ParsedInput {
  if (typeof input === 'string') {
    const trimmed = input.trim()
    if (isCompactJws(trimmed)) return { kind: 'jwt', jwt: trimmed }
    if (trimmed.startsWith('{')) {
      try {
        return parseInput(JSON.parse(trimmed))
      } catch {
        return { kind: 'unparseable', reason: 'the text is neither JSON nor a compact JWS' }
      }
    }
    return { kind: 'unparseable', reason: 'the string is not a compact JWS (header.payload.signature)' }
  }
  if (!isObject(input)) return { kind: 'unparseable', reason: 'a credential must be a JSON object or a compact JWS' }
  if (hasType(input, 'EnvelopedVerifiableCredential')) {
    const id = input.id
    if (typeof id !== 'string' || !id.startsWith(ENVELOPE_PREFIX)) {
      return { kind: 'unparseable', reason: `an EnvelopedVerifiableCredential "id" must be a "${ENVELOPE_PREFIX}" data URL` }
    }
    const jwt = id.slice(ENVELOPE_PREFIX.length)
    if (!isCompactJws(jwt)) return { kind: 'unparseable', reason: 'the enveloped credential is not a compact JWS' }
    return { kind: 'jwt', jwt: jwt.trim() }
  }
  return { kind: 'json-ld', credential: input }
}
