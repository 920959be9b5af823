import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

function ajv (options: Options): Ajv {
  const instance = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, strict: false, ...options })
  addFormats(instance)
  return instance
}

// Bodies are validated exactly as sent: no coercion, nothing stripped. URL
// parameters and query strings are text by nature, so only they are coerced
// ("?limit=10" is the number 10).
const bodyAjv = ajv({ coerceTypes: false })
const urlAjv = ajv({ coerceTypes: true })

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  (httpPart === 'querystring' || httpPart === 'params' ? urlAjv : bodyAjv).compile(schema)
