import { isObject } from '../../kernel/json.js'
import { VCDM2_CONTEXT, isVcdm1 } from './credential-fields.js'

type Json = Record<string, unknown>

// Properties the OB 3.0 spec (since doc 1.3) lets a single value stand for a
// one-element set, while the July 2024 JSON schemas still demand arrays.
const SET_PROPERTIES = new Set(['type', 'proof', 'credentialSchema', 'termsOfUse', 'evidence', 'endorsement', 'endorsementJwt',
  'alignment', 'result', 'resultDescription', 'rubricCriterionLevel', 'otherIdentifier', 'identifier', 'related', 'tag', 'allowedValue'])
// In these objects `type` is a single string in the schema, not a set.
const SCALAR_TYPE_PARENTS = new Set(['credentialStatus', 'credentialSchema', 'proof', 'refreshService', 'termsOfUse', 'identifier', 'otherIdentifier', 'image', 'geo'])
// A property name that is a set in one object and a string in another.
const SET_ONLY_UNDER: Record<string, string> = { identifier: 'credentialSubject', resultDescription: 'achievement' }

function wrapSets (value: unknown, parentKey?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => wrapSets(item, parentKey))
  if (!isObject(value)) return value
  const out: Json = {}
  for (const [key, child] of Object.entries(value)) {
    const wrapped = wrapSets(child, key)
    const isSet = SET_PROPERTIES.has(key) &&
      !(key === 'type' && parentKey !== undefined && SCALAR_TYPE_PARENTS.has(parentKey)) &&
      (SET_ONLY_UNDER[key] === undefined || SET_ONLY_UNDER[key] === parentKey)
    out[key] = isSet && wrapped !== undefined && !Array.isArray(wrapped) ? [wrapped] : wrapped
  }
  return out
}

export interface SchemaView { document: Json, translatedFromVcdm1: boolean }

/**
 * A copy of the credential shaped for the 1EdTech JSON schema: single values
 * wrapped into arrays and, for VCDM 1.1, the 2.0 names substituted (there is
 * no VCDM 1.1 OB schema offline). Only the schema check sees this copy; the
 * signature is always checked over the credential exactly as received.
 */
export function schemaView (credential: Json): SchemaView {
  const document = wrapSets(structuredClone(credential)) as Json
  if (!isVcdm1(credential)) return { document, translatedFromVcdm1: false }
  const context = Array.isArray(document['@context']) ? [...document['@context']] : []
  context[0] = VCDM2_CONTEXT
  document['@context'] = context
  if ('issuanceDate' in document) {
    document.validFrom = document.issuanceDate
    delete document.issuanceDate
  }
  if ('expirationDate' in document) {
    document.validUntil = document.expirationDate
    delete document.expirationDate
  }
  return { document, translatedFromVcdm1: true }
}
