/**
 * Prints, as JSON, the RDFC-1.0 canonical N-Quads of every JSON-LD document
 * given (files or folders, searched for *.json), twice over in one process,
 * with jsonld's own active-context clone or (--shared) with
 * src/infrastructure/jsonld/shared-term-definitions.ts installed first. Run in a child
 * process by test/jsonld-shared-term-definitions.test.ts, so that the two
 * runs share no jsonld caches.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import jsonld from 'jsonld'
import { staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import { installSharedTermDefinitions } from '../../src/infrastructure/jsonld/shared-term-definitions.js'

// Counts jsonld's deep copies of term-definition Maps: the change must leave none.
const util = createRequire(import.meta.url)('jsonld/lib/util.js') as { clone: (value: unknown) => unknown }
const deepClone = util.clone
let termDefinitionCopies = 0
util.clone = (value) => { if (value instanceof Map) termDefinitionCopies++; return deepClone(value) }

const args = process.argv.slice(2)
if (args.includes('--shared')) installSharedTermDefinitions()
const files = (function list (paths: string[]): string[] {
  return paths.flatMap((p) => statSync(p).isDirectory() ? list(readdirSync(p).sort().map((f) => path.join(p, f))) : p.endsWith('.json') ? [p] : [])
})(args.filter((a) => !a.startsWith('--')))

const canonical = async (): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const file of files) {
    const document = JSON.parse(readFileSync(file, 'utf8')) as object
    try {
      out[file] = await jsonld.canonize(document, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader: staticDocumentLoader, safe: false } as never) as unknown as string
    } catch (error) {
      out[file] = `error: ${(error as Error).message}`
    }
  }
  return out
}
const first = await canonical()
const second = await canonical()
process.stdout.write(JSON.stringify({ first, second, termDefinitionCopies }))
