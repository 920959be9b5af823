import { EARLIEST_DATE, LATEST_DATE } from '../../kernel/errors.js'

/**
 * What a request that fails its JSON schema is told, in the caller's terms.
 * Ajv (allErrors off) stops at the first failing keyword, but tries every
 * branch of a oneOf/anyOf and lists each branch's failure before its own: the
 * first error is then often the wrong one ("must not have the property
 * "points"" from the branch the caller did not ask for). So the errors are
 * read as a tree and the branch the caller meant is chosen: the one that did
 * not fail on its discriminator ("method"), else the one that got furthest.
 */

/** An ajv error, as Fastify hands it over (error.validation). */
export interface SchemaError {
  instancePath: string
  schemaPath: string
  keyword: string
  params: unknown
  message?: string
}

/** How the parts of what was validated are named. */
export interface Wording {
  /** The whole document: "The request body". */
  whole: string
  /** A field, from its dotted path ("recipient.email"), quoted. */
  field: (dotted: string) => string
  /** A required property that is absent (a CSV says the cell is empty). */
  missing?: (dotted: string) => string
}

/** The wording for a request part (body, querystring, params, headers). */
export function requestWording (where: string): Wording {
  return { whole: `The request ${where === 'querystring' ? 'query string' : where}`, field: (dotted) => `"${dotted}"` }
}

const DATE_RULE = 'must be a date like 2026-12-04 or a date-time like 2026-12-04T09:00:00Z; dates like 12/04/2026 are refused as ambiguous (4 December or 12 April?)'
const DATE_RANGE = `must be a date between ${EARLIEST_DATE.slice(0, 4)} and ${LATEST_DATE.slice(0, 4)}`

interface Node { error: SchemaError, branches?: Node[][], then?: Node[] }
/** A chosen error, or a sentence already decided for a subject (its instancePath). */
type Finding = { error: SchemaError, sentence?: undefined } | { error: SchemaError, sentence: (subject: string) => string }

const param = (error: SchemaError, name: string): unknown => (error.params as Record<string, unknown> | null)?.[name]
const depth = (error: SchemaError): number => error.instancePath === '' ? 0 : error.instancePath.split('/').length - 1
const dotted = (pointer: string): string => pointer.split('/').slice(1).map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~')).join('.')
const listOf = (values: readonly unknown[]): string => values.map((value) => JSON.stringify(value)).join(', ')

/** Ajv's flat list as a tree: a oneOf/anyOf error owns its branches' errors listed before it, an if error its then/else errors. */
function tree (errors: readonly SchemaError[]): Node[] {
  const nodes: Node[] = []
  const take = (owned: (node: Node) => boolean): Node[] => {
    const taken = nodes.filter(owned)
    for (const node of taken) nodes.splice(nodes.indexOf(node), 1)
    return taken
  }
  for (const error of errors) {
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      const prefix = `${error.schemaPath}/`
      const branches: Node[][] = []
      for (const node of take((n) => n.error.schemaPath.startsWith(prefix))) {
        const index = Number(node.error.schemaPath.slice(prefix.length).split('/')[0])
        ;(branches[index] ??= []).push(node)
      }
      nodes.push({ error, branches: branches.filter((b) => b !== undefined) })
    } else if (error.keyword === 'if') {
      const base = error.schemaPath.slice(0, -'/if'.length)
      nodes.push({ error, then: take((n) => n.error.schemaPath.startsWith(`${base}/then/`) || n.error.schemaPath.startsWith(`${base}/else/`)) })
    } else {
      nodes.push({ error })
    }
  }
  return nodes
}

/** A branch that failed only because its discriminator ("method": "exam") is not what was sent. */
function discriminatorMiss (finding: Finding, parent: string): string | undefined {
  const { error } = finding
  if (finding.sentence !== undefined || (error.keyword !== 'const' && error.keyword !== 'enum')) return undefined
  const name = error.instancePath.slice(parent.length + 1)
  if (!error.instancePath.startsWith(`${parent}/`) || name.includes('/')) return undefined
  return error.schemaPath.endsWith(`/properties/${name}/${error.keyword}`) ? name : undefined
}

function resolve (node: Node): Finding {
  if (node.then !== undefined) return node.then[0] !== undefined ? resolve(node.then[0]) : { error: node.error }
  if (node.branches === undefined || node.branches.length === 0) return { error: node.error }
  const parent = node.error.instancePath
  const findings = node.branches.map((branch) => resolve(branch[0] as Node))
  const atParent = findings.every((f) => f.sentence === undefined && f.error.instancePath === parent)

  // A value that may take one of several shapes: say all of them.
  if (atParent && findings.every((f) => f.error.keyword === 'type')) {
    const types = findings.map((f) => typeWords(param(f.error, 'type')))
    return { error: node.error, sentence: (subject) => `${subject} must be ${[...new Set(types)].join(' or ')}.` }
  }
  if (atParent && findings.every((f) => ['format', 'formatMinimum', 'formatMaximum'].includes(f.error.keyword)) && findings.some((f) => param(f.error, 'format') === 'date')) {
    const range = findings.some((f) => f.error.keyword !== 'format')
    return { error: node.error, sentence: (subject) => `${subject} ${range ? DATE_RANGE : DATE_RULE}.` }
  }
  if (atParent && findings.every((f) => ['enum', 'const', 'pattern', 'format'].includes(f.error.keyword))) {
    return { error: node.error, sentence: (subject) => `${subject} must ${findings.map((f) => valueRule(f.error)).join(', or ')}.` }
  }

  const misses = findings.map((f) => discriminatorMiss(f, parent))
  const meant = findings.filter((_, i) => misses[i] === undefined)
  if (meant.length === 0) {
    // Every branch wants another value of the same discriminator: list them all.
    const name = misses[0] as string
    const allowed = findings.flatMap((f) => f.error.keyword === 'const' ? [param(f.error, 'allowedValue')] : (param(f.error, 'allowedValues') as unknown[]))
    if (misses.every((m) => m === name)) return { error: findings[0]!.error, sentence: (subject) => `${subject} must be one of ${listOf(allowed)}.` }
  }
  // The branch that got furthest into the document; a type mismatch (the
  // "or null" branch) is the least likely to be what was meant.
  const candidates = meant.length > 0 ? meant : findings
  return candidates.reduce((best, f) =>
    depth(f.error) > depth(best.error) || (depth(f.error) === depth(best.error) && best.error.keyword === 'type' && f.error.keyword !== 'type') ? f : best)
}

function typeWords (type: unknown): string {
  const words: Record<string, string> = { string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'an object', array: 'an array', null: 'null' }
  return (Array.isArray(type) ? type : String(type).split(',')).map((t: string) => words[t] ?? t).join(' or ')
}

/** What a value must do, for keywords that constrain a single value ("be one of …", "be an email address"). */
function valueRule (error: SchemaError): string {
  switch (error.keyword) {
    case 'const': return `be ${JSON.stringify(param(error, 'allowedValue'))}`
    case 'enum': {
      const allowed = param(error, 'allowedValues') as unknown[]
      return allowed.length === 1 ? `be ${JSON.stringify(allowed[0])}` : `be one of ${listOf(allowed)}`
    }
    case 'pattern': return param(error, 'pattern') === '\\S' ? 'not be blank' : `match the pattern ${String(param(error, 'pattern'))}`
    case 'format': {
      const format = String(param(error, 'format'))
      const words: Record<string, string> = { email: 'be an email address', uri: 'be a URL', 'date-time': 'be a date-time like 2026-12-04T09:00:00Z', date: 'be a date like 2026-12-04' }
      return words[format] ?? `be in the format "${format}"`
    }
    default: return error.message ?? 'be valid'
  }
}

/** One sentence for one error, about its subject (already worded). */
function sentence (error: SchemaError, subject: string): string {
  const limit = param(error, 'limit')
  switch (error.keyword) {
    case 'additionalProperties': return `${subject} must not have the property "${String(param(error, 'additionalProperty'))}".`
    case 'type': return `${subject} must be ${typeWords(param(error, 'type'))}.`
    case 'minLength': return limit === 1 ? `${subject} must not be empty.` : `${subject} must be at least ${String(limit)} characters long.`
    case 'maxLength': return `${subject} must be at most ${String(limit)} characters long.`
    case 'minimum': return `${subject} must be at least ${String(limit)}.`
    case 'maximum': return `${subject} must be at most ${String(limit)}.`
    case 'exclusiveMinimum': return `${subject} must be more than ${String(limit)}.`
    case 'exclusiveMaximum': return `${subject} must be less than ${String(limit)}.`
    case 'minItems': return `${subject} must hold at least ${String(limit)} item${limit === 1 ? '' : 's'}.`
    case 'maxItems': return `${subject} must hold at most ${String(limit)} items.`
    case 'minProperties': return limit === 1 ? `${subject} must not be empty.` : `${subject} must have at least ${String(limit)} properties.`
    case 'maxProperties': return `${subject} must have at most ${String(limit)} properties.`
    case 'formatMinimum':
    case 'formatMaximum': return `${subject} ${DATE_RANGE}.`
    case 'false schema': return `${subject} is not allowed here.`
    case 'const':
    case 'enum':
    case 'pattern':
    case 'format': return `${subject} must ${valueRule(error)}.`
    default: return `${subject} ${error.message ?? 'is not valid'}.`
  }
}

/**
 * The detail of a validation_failed problem: one sentence about the error
 * that matters, naming the field as the caller wrote it.
 */
export function validationDetail (errors: readonly SchemaError[], wording: Wording): string {
  const top = tree(errors)[0]
  if (top === undefined) return `${wording.whole} is not valid.`
  const found = resolve(top)
  const { error } = found
  const subject = (pointer: string): string => pointer === '' ? wording.whole : wording.field(dotted(pointer))
  if (found.sentence !== undefined) return found.sentence(subject(error.instancePath))

  // A property that only goes with one value of another (schema dependencies):
  // '"points" is only used with "method": "continuing-education".'
  const dependency = /\/dependencies\/([^/]+)\/properties\/([^/]+)\/(const|enum)$/.exec(error.schemaPath)
  if (dependency !== null) {
    const parent = error.instancePath.split('/').slice(0, -1).join('/')
    const with_ = error.keyword === 'const' ? `"${dependency[2] ?? ''}": ${JSON.stringify(param(error, 'allowedValue'))}` : `"${dependency[2] ?? ''}" one of ${listOf(param(error, 'allowedValues') as unknown[])}`
    return `${subject(`${parent}/${dependency[1] ?? ''}`)} is only used with ${with_}.`
  }
  if (error.keyword === 'required') {
    const missing = `${error.instancePath}/${String(param(error, 'missingProperty'))}`
    return wording.missing !== undefined ? wording.missing(dotted(missing)) : `${subject(error.instancePath)} must have the property "${String(param(error, 'missingProperty'))}".`
  }
  return sentence(error, subject(error.instancePath))
}

/**
 * A validation_failed problem's detail and its errors (every rule ajv
 * reported, for programs): `in` names the request part, or items[n] for an
 * item of a batch.
 */
export function validationProblem (errors: readonly SchemaError[], where: string, wording: Wording = requestWording(where)): { code: 'validation_failed', detail: string, extra: { errors: Array<{ in: string, path: string, message: string | undefined, params: unknown }> } } {
  return {
    code: 'validation_failed',
    detail: validationDetail(errors, wording),
    extra: { errors: errors.map((e) => ({ in: where, path: e.instancePath, message: e.message, params: e.params })) }
  }
}
