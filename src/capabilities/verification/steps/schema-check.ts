import { validateOpenBadgeSchema } from '../../credentials/ob-schema.js'
import { isOpenBadge } from '../credential-fields.js'
import { schemaView } from '../normalise.js'
import { failed, passed, type Check } from '../result.js'

type Json = Record<string, unknown>

/** Said of a plain VC, so a reader of the result knows the Open Badges rules were not applied, not forgotten. */
export const OB_NOT_APPLICABLE = 'This is not an Open Badge (no Open Badges type or context): it was verified as a W3C Verifiable Credential (proof, key binding, validity period, status); the Open Badges 3.0 schema and format rules were not applicable.'

/**
 * The `schema` check against the 1EdTech OB 3.0 JSON schema, run on a
 * normalised copy (single values wrapped into arrays; VCDM 1.1 names
 * translated to 2.0, with a warning, since no 1.1 schema is available offline).
 * A credential that is not an Open Badge passes with that said: VCDM has no
 * JSON schema to hold it to, and the shape every later check reads was judged
 * by `format`.
 */
export function checkSchema (credential: Json): { check: Check, warnings: string[] } {
  if (!isOpenBadge(credential)) {
    return { check: passed('schema', 'Not applicable: this is not an Open Badge, so the Open Badges 3.0 JSON schema does not apply (the VCDM shape was checked by "format").'), warnings: [OB_NOT_APPLICABLE] }
  }
  const view = schemaView(credential)
  const { valid, errors } = validateOpenBadgeSchema(view.document)
  const warnings = view.translatedFromVcdm1
    ? ['This is a VCDM 1.1 credential; it was checked against the VCDM 2.0 Open Badges schema after translating issuanceDate/expirationDate to validFrom/validUntil.']
    : []
  if (!valid) return { check: failed('schema', `The credential does not match the Open Badges 3.0 JSON schema: ${errors.join('; ')}.`), warnings }
  return { check: passed('schema', 'The credential matches the Open Badges 3.0 JSON schema.'), warnings }
}
