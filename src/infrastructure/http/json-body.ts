import type { FastifyInstance } from 'fastify'
import fastify from 'fastify'
import secureJson from 'secure-json-parse'
import { AppError } from '../../kernel/errors.js'

/** Deeper than any real request: OB credentials nest about a dozen levels. */
export const MAX_JSON_DEPTH = 64

/**
 * Why a JSON value is too big, or undefined when it is within the limits.
 * Iterative, so a 10,000-deep document cannot overflow the stack, and it stops
 * at the first limit crossed.
 */
export function exceedsJsonLimits (value: unknown, limits: { depth: number, nodes: number }): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]]
  let nodes = 0
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (++nodes > limits.nodes) return `it has more than ${limits.nodes} JSON values`
    if (depth > limits.depth) return `it is nested more than ${limits.depth} levels deep`
    if (typeof current === 'object' && current !== null) {
      for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1])
    }
  }
  return undefined
}

const { FST_ERR_CTP_EMPTY_JSON_BODY, FST_ERR_CTP_INVALID_JSON_BODY } = fastify.errorCodes

/**
 * Parses JSON from outside (a request body, a baked image) the way the body
 * parser does: prototype pollution refused, depth bounded. Throws AppError.
 */
export function parseUntrustedJson (text: string): unknown {
  let parsed: unknown
  try {
    parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch {
    throw new AppError('malformed_json', 'The embedded credential is not valid JSON.')
  }
  const tooBig = exceedsJsonLimits(parsed, { depth: MAX_JSON_DEPTH, nodes: Number.POSITIVE_INFINITY })
  if (tooBig !== undefined) throw new AppError('validation_failed', `The JSON is too complex: ${tooBig}.`)
  return parsed
}

/**
 * Replaces Fastify's JSON body parser with the same parser (secure-json-parse,
 * `__proto__` and `constructor.prototype` refused) plus a depth limit checked
 * before any handler, schema or library walks the body recursively.
 */
export function installJsonBodyParser (app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string
    if (text === '') {
      done(new FST_ERR_CTP_EMPTY_JSON_BODY(), undefined)
      return
    }
    let parsed: unknown
    try {
      parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
    } catch {
      done(new FST_ERR_CTP_INVALID_JSON_BODY(), undefined)
      return
    }
    const tooBig = exceedsJsonLimits(parsed, { depth: MAX_JSON_DEPTH, nodes: Number.POSITIVE_INFINITY })
    if (tooBig !== undefined) {
      done(new AppError('validation_failed', `The JSON body is too complex: ${tooBig}.`), undefined)
      return
    }
    done(null, parsed)
  })
}
