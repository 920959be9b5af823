import { isObject } from '../../../kernel/json.js'
import { VCDM1_CONTEXT, VCDM2_CONTEXT, asArray, contexts, isOpenBadge, issuerId, types, validFrom } from '../credential-fields.js'
import { ISSUED_CONTEXT_LISTS, STATIC_CONTEXTS } from '../../../infrastructure/jsonld/document-loader.js'
import type { Ownership } from '../ownership.js'
import { failed, passed, type Check } from '../result.js'

type Json = Record<string, unknown>

const OB_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context(-3\.\d\.\d)?\.json$/
const OB_TYPES = ['OpenBadgeCredential', 'AchievementCredential', 'EndorsementCredential']

const sameList = (expected: readonly string[], actual: unknown[]): boolean =>
  expected.length === actual.length && expected.every((url, i) => actual[i] === url)

/**
 * Context URLs this verifier does not hold. JSON-LD contexts are never fetched
 * (a verifier that did would let whoever serves the context decide what the
 * signed statements mean), so a credential naming one cannot be read, and its
 * proof, which signs its meaning, cannot be checked.
 */
const unknownContexts = (context: unknown[]): string[] =>
  context.filter((c): c is string => typeof c === 'string' && !STATIC_CONTEXTS.has(c))

/**
 * The `format` check: is this shaped like a verifiable credential at all?
 * Only what every later check relies on. Every credential needs a VCDM 1.1 or
 * 2.0 context first, only contexts this verifier holds, "VerifiableCredential",
 * an issuer and a subject (and, in VCDM 1.1, an issuanceDate). A credential
 * that says it is an Open Badge (an Open Badges type or context) must also be
 * shaped like an Open Badges 3.0 one; the 1EdTech schema judges the rest.
 */
export function checkFormat (credential: Json, ownership: (id: string) => Ownership = () => 'foreign'): Check {
  const problems: string[] = []
  const context = contexts(credential)
  const issuer = issuerId(credential)
  const openBadge = isOpenBadge(credential)
  const vcdm1 = context[0] === VCDM1_CONTEXT
  if (issuer !== undefined && ownership(issuer) !== 'foreign' && !ISSUED_CONTEXT_LISTS.some((list) => sameList(list, context))) {
    problems.push(`"@context" must be exactly ${ISSUED_CONTEXT_LISTS.map((l) => JSON.stringify(l)).join(' or ')} in a credential of this service's issuers.`)
  }
  if (context[0] !== VCDM2_CONTEXT && !vcdm1) problems.push(`"@context" must start with "${VCDM2_CONTEXT}" (or, for VCDM 1.1, "${VCDM1_CONTEXT}").`)
  const unknown = unknownContexts(context)
  if (unknown.length > 0) {
    problems.push(`"@context" names ${unknown.map((c) => `"${c}"`).join(', ')}, which this verifier does not hold; it never fetches contexts, so the credential's terms cannot be read and its proof cannot be checked.`)
  }
  const typeList = types(credential)
  if (!typeList.includes('VerifiableCredential')) problems.push('"type" must include "VerifiableCredential".')
  if (openBadge) {
    if (!context.some((c) => typeof c === 'string' && OB_CONTEXT.test(c))) problems.push('"@context" must include an Open Badges 3.0 context.')
    if (!typeList.some((t) => OB_TYPES.includes(t))) problems.push(`"type" must include one of ${OB_TYPES.map((t) => `"${t}"`).join(', ')}.`)
  }
  if (issuer === undefined) problems.push('"issuer" must be present, with an "id".')
  if (asArray(credential.credentialSubject).filter(isObject).length === 0) problems.push('"credentialSubject" must be present.')
  // VCDM 2.0 makes validFrom optional; Open Badges 3.0 and VCDM 1.1 (issuanceDate) require it.
  if (validFrom(credential) === undefined && (openBadge || vcdm1)) problems.push(vcdm1 ? '"issuanceDate" must be present.' : '"validFrom" must be present.')
  if (problems.length > 0) return failed('format', problems.join(' '))
  return openBadge
    ? passed('format', 'The document is shaped like an Open Badges 3.0 verifiable credential.')
    : passed('format', `The document is shaped like a VCDM ${vcdm1 ? '1.1' : '2.0'} verifiable credential (not an Open Badge: the Open Badges checks do not apply).`)
}
