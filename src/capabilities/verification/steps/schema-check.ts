import { validateOpenBadgeSchema } from '../../credentials/ob-schema.js'
import { schemaView } from '../normalise.js'
import { failed, passed, type Check } from '../result.js'

type Json = Record<string, unknown>

/**
 * The `schema` check against the 1EdTech OB 3.0 JSON schema, run on a
 * normalised copy (single values wrapped into arrays; VCDM 1.1 names
 * translated to 2.0, with a warning, since no 1.1 schema is available offline).
 */
export function checkSchema (credential: Json): { check: Check, warnings: string[] } {
  const view = schemaView(credential)
  const { valid, errors } = validateOpenBadgeSchema(view.document)
  const warnings = view.translatedFromVcdm1
    ? ['This is a VCDM 1.1 credential; it was checked against the VCDM 2.0 Open Badges schema after translating issuanceDate/expirationDate to validFrom/validUntil.']
    : []
  if (!valid) return { check: failed('schema', `The credential does not match the Open Badges 3.0 JSON schema: ${errors.join('; ')}.`), warnings }
  return { check: passed('schema', 'The credential matches the Open Badges 3.0 JSON schema.'), warnings }
}
