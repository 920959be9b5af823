import { isObject } from '../../../kernel/json.js'
import { VCDM1_CONTEXT, VCDM2_CONTEXT, asArray, contexts, issuerId, types, validFrom } from '../credential-fields.js'
import { ISSUED_CONTEXT_LISTS } from '../../../infrastructure/jsonld/document-loader.js'
import type { Ownership } from '../ownership.js'
import { failed, passed, type Check } from '../result.js'

type Json = Record<string, unknown>

const OB_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context(-3\.\d\.\d)?\.json$/
const OB_TYPES = ['OpenBadgeCredential', 'AchievementCredential', 'EndorsementCredential']

const sameList = (expected: readonly string[], actual: unknown[]): boolean =>
  expected.length === actual.length && expected.every((url, i) => actual[i] === url)

/**
 * The `format` check: is this shaped like an Open Badges 3.0 verifiable
 * credential at all? Only what every later check relies on; the 1EdTech
 * schema judges the rest.
 */
export function checkFormat (credential: Json, ownership: (id: string) => Ownership = () => 'foreign'): Check {
  const problems: string[] = []
  const context = contexts(credential)
  const issuer = issuerId(credential)
  if (issuer !== undefined && ownership(issuer) !== 'foreign' && !ISSUED_CONTEXT_LISTS.some((list) => sameList(list, context))) {
    problems.push(`"@context" must be exactly ${ISSUED_CONTEXT_LISTS.map((l) => JSON.stringify(l)).join(' or ')} in a credential of this service's issuers.`)
  }
  if (context[0] !== VCDM2_CONTEXT && context[0] !== VCDM1_CONTEXT) problems.push(`"@context" must start with "${VCDM2_CONTEXT}".`)
  if (!context.some((c) => typeof c === 'string' && OB_CONTEXT.test(c))) problems.push('"@context" must include an Open Badges 3.0 context.')
  const typeList = types(credential)
  if (!typeList.includes('VerifiableCredential')) problems.push('"type" must include "VerifiableCredential".')
  if (!typeList.some((t) => OB_TYPES.includes(t))) problems.push(`"type" must include one of ${OB_TYPES.map((t) => `"${t}"`).join(', ')}.`)
  if (issuer === undefined) problems.push('"issuer" must be present, with an "id".')
  if (asArray(credential.credentialSubject).filter(isObject).length === 0) problems.push('"credentialSubject" must be present.')
  if (validFrom(credential) === undefined) problems.push(context[0] === VCDM1_CONTEXT ? '"issuanceDate" must be present.' : '"validFrom" must be present.')
  if (problems.length > 0) return failed('format', problems.join(' '))
  return passed('format', 'The document is shaped like an Open Badges 3.0 verifiable credential.')
}
