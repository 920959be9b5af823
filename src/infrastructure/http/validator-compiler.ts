import { Ajv, type ErrorObject, type Options } from 'ajv'
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

// NUL (PostgreSQL text refuses it) and UTF-16 surrogates that are not part of
// a pair (JSON.parse makes them from "\ud800"; they cannot be encoded as UTF-8,
// so they would be mangled when stored or signed).
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSAFE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * The JSON Pointer of the first string (or object key) in a body that holds
 * unsafe text, or undefined. Iterative: the body parser has already bounded
 * depth, and this must not recurse either.
 */
export function findUnsafeText (value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']]
  while (stack.length > 0) {
    const [current, path] = stack.pop()!
    if (typeof current === 'string') {
      if (UNSAFE_TEXT.test(current)) return path
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        const childPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
        if (UNSAFE_TEXT.test(key)) return childPath
        stack.push([child, childPath])
      }
    }
  }
  return undefined
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

/** Body validation: the route's schema, then one check for unsafe text anywhere in the body. */
function bodyValidator (schema: object): Validate {
  const validateSchema = bodyAjv.compile(schema)
  const validate: Validate = (data: unknown) => {
    if (!validateSchema(data)) {
      validate.errors = validateSchema.errors
      return false
    }
    const at = findUnsafeText(data)
    if (at === undefined) return true
    validate.errors = [{ instancePath: at, schemaPath: '#', keyword: 'safeText', params: {}, message: 'must not contain NUL characters or unpaired UTF-16 surrogates' }]
    return false
  }
  return validate
}

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  httpPart === 'body' ? bodyValidator(schema) : (httpPart === 'querystring' || httpPart === 'params' ? urlAjv : bodyAjv).compile(schema)
