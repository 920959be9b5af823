import runTask, { type CompareDatasetsTask, type DatasetDifference } from '../../../infrastructure/signing/tasks.js'
import { STATIC_CONTEXTS } from '../../../infrastructure/jsonld/document-loader.js'
import { isObject } from '../../../kernel/json.js'
import { asArray } from '../credential-fields.js'
import { memoised } from '../pure-check-cache.js'
import { failed, passed, type Check } from '../result.js'
import type { VerificationRuntime } from '../sources.js'

/**
 * The `signed_data` check: does the JSON the checks read state exactly what
 * the proof signed?
 *
 * A Data Integrity proof signs a credential's JSON-LD meaning (its RDF
 * dataset), not its JSON keys, while every check reads plain JSON fields
 * (`validUntil`, `credentialStatus`, `issuer`...). JSON-LD offers many ways
 * to state the same statements without those keys: expanded IRIs, aliases,
 * `@nest`, `@included`, `@reverse`, `@graph`, scoped contexts, value objects,
 * or a second node object with the credential's own `id`. Rather than a list
 * of forbidden tricks (the next one would open the hole again), the judgement
 * compares two readings of the whole document:
 *
 * 1. The plain reading: the document as a reader of plain JSON sees it, under
 *    the approved contexts only: every key that is a JSON-LD keyword or an
 *    IRI, and every inline or unknown context, is dropped. What remains means,
 *    term by term, what the checks take it to mean.
 * 2. When the plain reading is the document itself (every honest credential),
 *    it is trivially what was signed: nothing more is computed. Otherwise both
 *    are canonicalised and must be the same dataset; any statement in one and
 *    not the other fails the check, naming what the reader would miss.
 * 3. The plain reading must describe the nodes the verdict reads (the
 *    credential and its status entries) in one place: another node object
 *    with the same `id` adds statements about them that a reader of the
 *    top-level object never sees. It may only name the node (`id`, `type`),
 *    as `refreshService` does in Open Badges credentials.
 *
 * VC-JWT credentials go through the same judgement: their bytes are signed,
 * but a JSON-LD consumer reads the same meaning as a Data Integrity one.
 */

type Json = Record<string, unknown>

/** How many departures and statements a failure message quotes. */
const QUOTED = 3

interface PlainReading {
  document: Json
  /** Where the plain reading departs from the document, as paths with what was dropped. */
  departures: string[]
  /**
   * Node objects below the top level that restate the credential or one of
   * its status entries with more than their `id` and `type`, as "path restates
   * id with key, key"; or that two status entries state one id differently.
   */
  restated: string[]
}

const keyPath = (path: string, key: string): string => /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

/** An approved context: one of the static contexts the service holds (never fetched). */
const isApprovedContext = (entry: unknown): entry is string => typeof entry === 'string' && STATIC_CONTEXTS.has(entry)

/** A key a plain-JSON reader reads as a term of the approved contexts. */
const isPlainKey = (key: string): boolean => !key.startsWith('@') && !key.includes(':')

/** The nodes the verdict reads, by id: the credential and its status entries, as the top-level object states them. */
function verdictNodes (document: Json, restated: string[]): Map<unknown, unknown> {
  const primaries = new Map<unknown, unknown>()
  if (typeof document.id === 'string') primaries.set(document.id, document)
  for (const entry of asArray(document.credentialStatus)) {
    if (!isObject(entry) || typeof entry.id !== 'string') continue
    const first = primaries.get(entry.id)
    // Two entries under one id merge into one node: they must be the same.
    if (first !== undefined && JSON.stringify(first) !== JSON.stringify(entry)) restated.push(`$.credentialStatus states "${entry.id}" twice, differently`)
    primaries.set(entry.id, entry)
  }
  return primaries
}

/**
 * The document as a plain-JSON reader sees it under the approved contexts
 * (see the module comment), in one walk that also finds the verdict's nodes
 * stated a second time.
 */
export function plainReading (document: Json): PlainReading {
  const departures: string[] = []
  const restated: string[] = []
  const primaries = verdictNodes(document, restated)
  const plainValue = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => plainValue(item, `${path}[${i}]`))
    if (!isObject(value)) return value
    const primary = primaries.get(value.id)
    if (primary !== undefined && primary !== value) {
      const extra = Object.keys(value).filter((k) => k !== 'id' && k !== 'type' && isPlainKey(k))
      if (extra.length > 0) restated.push(`${path} restates "${String(value.id)}" with ${extra.map((k) => `"${k}"`).join(', ')}`)
    }
    const plain: Json = {}
    for (const [key, item] of Object.entries(value)) {
      if (key === '@context') {
        const entries = asArray(item)
        const approved = entries.filter(isApprovedContext)
        if (approved.length !== entries.length) departures.push(`${keyPath(path, key)} (an inline or unknown context)`)
        if (approved.length > 0) plain[key] = Array.isArray(item) ? approved : approved[0]
      } else if (key.startsWith('@')) {
        departures.push(`${keyPath(path, key)} (a JSON-LD keyword)`)
      } else if (key.includes(':')) {
        departures.push(`${keyPath(path, key)} (an IRI, not a term)`)
      } else {
        plain[key] = plainValue(item, keyPath(path, key))
      }
    }
    return plain
  }
  return { document: plainValue(document, '$') as Json, departures, restated }
}

const quote = (items: readonly string[]): string =>
  items.slice(0, QUOTED).join('; ') + (items.length > QUOTED ? `; and ${items.length - QUOTED} more` : '')

/**
 * Judges a credential whose proof verified (without its `proof`). Honest
 * credentials cost one walk of the JSON; only a departure from the plain
 * reading costs a canonicalisation of both readings (on the Data Integrity
 * thread when it runs). `contentHash`: the whole credential's hash (with its
 * proof), when the caller has made it.
 */
export async function checkSignedData (unsigned: Json, runtime: VerificationRuntime = {}, contentHash?: string): Promise<Check> {
  // The verdict is a function of the content: a credential seen before is not walked again.
  if (contentHash === undefined || runtime.pureChecks === undefined) return await judgeSignedData(unsigned, runtime)
  return await memoised(runtime.pureChecks, 'signed-data-check', unsigned, async () => await judgeSignedData(unsigned, runtime, contentHash), contentHash)
}

async function judgeSignedData (unsigned: Json, runtime: VerificationRuntime, contentHash?: string): Promise<Check> {
  const reading = plainReading(unsigned)
  if (reading.departures.length > 0) {
    let difference: DatasetDifference
    try {
      // The same content always compares the same: computed once per content.
      const task: CompareDatasetsTask = { kind: 'compare-datasets', signed: unsigned, plain: reading.document }
      // Keyed by the whole credential's hash when the caller made one: `unsigned` is a function of it.
      difference = await memoised(runtime.pureChecks, 'signed-data', unsigned, async () =>
        runtime.dataIntegrity === undefined ? await runTask(task) as DatasetDifference : await runtime.dataIntegrity.run<DatasetDifference>(task), contentHash)
    } catch (error) {
      return failed('signed_data', `The credential's JSON-LD meaning cannot be read (${(error as Error).message}), so what its JSON says cannot be matched with what was signed.`)
    }
    const { onlySigned, onlyPlain } = difference
    if (onlySigned.length > 0 || onlyPlain.length > 0) {
      const missed = onlySigned.length === 0 ? '' : ` ${onlySigned.length} signed statement(s) are not in its plain JSON (${quote(onlySigned)}).`
      const added = onlyPlain.length === 0 ? '' : ` ${onlyPlain.length} statement(s) of its plain JSON were not signed (${quote(onlyPlain)}).`
      return failed('signed_data', `The credential's JSON does not state plainly what its proof signed: it writes ${quote(reading.departures)}.${missed}${added}`)
    }
  }
  const { restated } = reading
  if (restated.length > 0) {
    return failed('signed_data', `The credential's JSON states facts about the credential or its status in a second place, where a reader of the credential does not look: ${quote(restated)}.`)
  }
  return passed('signed_data', reading.departures.length === 0
    ? 'The credential\'s JSON states exactly what its proof signed.'
    : `The credential's JSON states exactly what its proof signed (${quote(reading.departures)} add nothing to it).`)
}
