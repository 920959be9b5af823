import { isObject } from '../../../kernel/json.js'
import { decodeJwsPayload, isCompactJws } from '../parse-input.js'

/**
 * Tells an Open Badges 2.0 assertion (hosted JSON, or a compact JWS whose
 * payload is the assertion) from everything else the verifier takes, without
 * trusting any of it. An OB 3.0 VC-JWT's payload is a credential (`vc` or
 * `credentialSubject`), never an Assertion, so the two cannot be confused.
 */

type Json = Record<string, unknown>

export const OB2_CONTEXT = 'https://w3id.org/openbadges/v2'

export type Ob2Input =
  | { kind: 'hosted', assertion: Json }
  | { kind: 'signed', jws: string, assertion: Json }

const hasType = (value: Json, type: string): boolean =>
  value.type === type || (Array.isArray(value.type) && value.type.includes(type))

/** An assertion by its own words: the 2.0 context, or type Assertion with a verification object, and no VC shape. */
export function looksLikeAssertion (value: unknown): value is Json {
  if (!isObject(value) || 'credentialSubject' in value || 'vc' in value) return false
  const context = value['@context']
  const contexts = Array.isArray(context) ? context : [context]
  if (contexts.includes(OB2_CONTEXT) || contexts.includes(`${OB2_CONTEXT}/`)) return hasType(value, 'Assertion') || isObject(value.verification)
  return hasType(value, 'Assertion') && isObject(value.verification)
}

/** The assertion and how it was given, or undefined when the input is not an Open Badges 2.0 assertion. */
export function readOpenBadge2 (input: unknown): Ob2Input | undefined {
  if (typeof input === 'string') {
    const trimmed = input.trim()
    if (isCompactJws(trimmed)) {
      const payload = decodeJwsPayload(trimmed)
      return looksLikeAssertion(payload) ? { kind: 'signed', jws: trimmed, assertion: payload } : undefined
    }
    if (!trimmed.startsWith('{')) return undefined
    try {
      return readOpenBadge2(JSON.parse(trimmed))
    } catch {
      return undefined
    }
  }
  return looksLikeAssertion(input) ? { kind: 'hosted', assertion: input } : undefined
}

/** Is this input an Open Badges 2.0 assertion (hosted JSON or a signed JWS)? */
export const isOpenBadge2 = (input: unknown): boolean => readOpenBadge2(input) !== undefined
