import { readFileSync } from 'node:fs'
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js'
import addFormatsModule from 'ajv-formats'

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

export const ACHIEVEMENT_CREDENTIAL_SCHEMA_URL = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json'
export const ENDORSEMENT_CREDENTIAL_SCHEMA_URL = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json'

function readSchema (file: string, id: string): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(new URL(`../../../schemas/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>
  // Register under the URL credentials use in credentialSchema.id (the file's own $id is the -jsonschema1 form).
  return { ...schema, $id: id }
}

function compile (): { achievement: ValidateFunction, endorsement: ValidateFunction } {
  const ajv = new Ajv2019({ strict: false, strictTuples: false, allErrors: true, validateFormats: true })
  addFormats(ajv)
  return {
    achievement: ajv.compile(readSchema('achievementcredential.json', ACHIEVEMENT_CREDENTIAL_SCHEMA_URL)),
    endorsement: ajv.compile(readSchema('endorsementcredential.json', ENDORSEMENT_CREDENTIAL_SCHEMA_URL))
  }
}

const validators = compile()

export interface SchemaResult { valid: boolean, errors: string[] }

function describe (errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((e) => `${e.instancePath === '' ? '(root)' : e.instancePath} ${e.message ?? 'is invalid'}`)
}

/** Validates a credential against the 1EdTech OB 3.0 JSON schema for its kind (achievement or endorsement). */
export function validateOpenBadgeSchema (credential: unknown): SchemaResult {
  const types = (credential as { type?: unknown } | null)?.type
  const isEndorsement = Array.isArray(types) && types.includes('EndorsementCredential')
  const validate = isEndorsement ? validators.endorsement : validators.achievement
  const valid = validate(credential)
  return { valid, errors: valid ? [] : describe(validate.errors) }
}
