/**
 * The bare library's rates on this machine, the denominators of the bench's ratios: a
 * single-thread loop of `vc.verifyCredential` and one of `vc.issue` on one of the
 * service's credentials, keys resolved from the issuer's controller document as a
 * verifier would. Run by bench/run.ts in a process of its own while nothing else of the
 * bench runs (no service, PostgreSQL idle), so nothing competes with it for the cores.
 *   npx tsx bench/library-baseline.ts <file with {credential, controller}> [seconds=3]
 * Prints one line of JSON: {"verifyPerSecond": …, "issuePerSecond": …}.
 */
import { readFileSync } from 'node:fs'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { createDocumentLoader, staticDocumentLoader } from '../src/infrastructure/jsonld/document-loader.js'

const input = process.argv[2]
if (input === undefined) throw new Error('usage: library-baseline.ts <file with {credential, controller}> [seconds]')
const seconds = Number(process.argv[3] ?? 3)
const { credential, controller } = JSON.parse(readFileSync(input, 'utf8')) as {
  credential: Record<string, any>
  controller: { id: string, assertionMethod: Array<Record<string, unknown>> }
}

const loader = createDocumentLoader(async (url) => {
  if (url === controller.id) return controller
  const method = controller.assertionMethod.find((m) => m.id === url)
  return method === undefined ? undefined : { '@context': 'https://w3id.org/security/multikey/v1', ...method }
})
const timeLoop = async (fn: () => Promise<unknown>): Promise<number> => {
  for (let i = 0; i < 20; i++) await fn()
  let n = 0
  const started = performance.now()
  const end = started + seconds * 1000
  while (performance.now() < end) { await fn(); n++ }
  return n / ((performance.now() - started) / 1000)
}

const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 })
const verifyPerSecond = await timeLoop(async () => {
  const r = await vc.verifyCredential({ credential, suite, documentLoader: loader, checkStatus: async () => ({ verified: true }) })
  if (r.verified !== true) throw new Error(`library verify failed: ${JSON.stringify(r.error)}`)
})
const issuerId = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer.id
const keyPair = await Ed25519Multikey.generate({ controller: issuerId, id: `${issuerId}#key` })
const { proof: _proof, ...unsigned } = credential
const issuePerSecond = await timeLoop(async () => await vc.issue({
  credential: structuredClone(unsigned),
  suite: new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022 }),
  documentLoader: staticDocumentLoader
}))
process.stdout.write(JSON.stringify({ verifyPerSecond, issuePerSecond }) + '\n')
