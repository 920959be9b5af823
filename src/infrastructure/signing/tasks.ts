import * as vc from '@digitalbazaar/vc'
import { LRUCache } from 'lru-cache'
import jsonld from 'jsonld'
import jsigs from 'jsonld-signatures'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { createVerifyCryptosuite as ecdsaSd2023 } from '@digitalbazaar/ecdsa-sd-2023-cryptosuite'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { createDocumentLoader, DocumentNotAvailableError, staticDocumentLoader } from '../jsonld/document-loader.js'
import { installSharedTermDefinitions } from '../jsonld/shared-term-definitions.js'

/**
 * The JSON-LD and signature work of Data Integrity proofs, as plain-data
 * tasks, so that it can run on a worker thread (pool.ts) or inline. Inputs
 * and outputs are structured-clonable: credentials as JSON, keys as multibase
 * strings, errors as descriptions.
 */

type Json = Record<string, unknown>

/** An Ed25519 key pair as its Multikey export (the secret key stays in this process). */
export interface KeyMaterial { id: string, controller: string, publicKeyMultibase: string, secretKeyMultibase: string }

export interface SignTask { kind: 'sign', credential: Json, key: KeyMaterial, created: string }

/** What a failed or unprocessable proof check reports, without the error object. */
export interface ProofError { description: string, missingUrl?: string, noMatchingProof: boolean }

export interface VerifyTask {
  kind: 'verify'
  /** The credential with the proofs to check as its `proof`. */
  document: Json
  /** Suite names (SUITE_FACTORIES keys) to verify with. */
  suites: string[]
  /** The key and controller documents the proofs may name, by URL. */
  documents: Record<string, Json>
  /**
   * What the proofs must be for: a credential's "assertionMethod" (the
   * default), or a presentation's "authentication", bound to the proof's own
   * challenge and domain when it carries them (the caller compares those with
   * what the verifier asked for).
   */
  purpose?: { term: 'authentication', challenge?: string, domain?: string }
}

export interface VerifyResult {
  results: Array<{ proof: unknown, verified: boolean, error?: ProofError }>
  setError?: ProofError
}

/**
 * Two readings of one credential to compare as RDF datasets: the credential as
 * it was signed and as a plain-JSON reader sees it (verification/signed-data.ts).
 */
export interface CompareDatasetsTask { kind: 'compare-datasets', signed: Json, plain: Json }

/** The canonical N-Quads statements found in only one of the two readings. */
export interface DatasetDifference { onlySigned: string[], onlyPlain: string[] }

/** Nothing to do: running it makes a thread load this module (JSON-LD, the suites) before the first real task. */
export interface ReadyTask { kind: 'ready' }

export type Task = SignTask | VerifyTask | CompareDatasetsTask | ReadyTask

interface Ed25519Verifier { id: string, algorithm: 'Ed25519', verify: (input: { data: Uint8Array, signature: Uint8Array }) => Promise<boolean> }

/**
 * Ed25519 verifiers by key, their public keys imported once per runner (a
 * thread, or an inline runner: createTaskRunner owns one): the library's
 * verifier imports the key (a DER parse and a KeyObject) on every
 * verification. Keyed by the whole verification method as the proof named
 * it, so a different key under a known id is a different verifier. Public
 * keys only, nothing secret.
 */
export type VerifierCache = LRUCache<string, Promise<Ed25519Verifier>>

async function cachedEd25519Verifier ({ verificationMethod }: { verificationMethod: Json }, ed25519Verifiers: VerifierCache): Promise<Ed25519Verifier> {
  const cacheKey = JSON.stringify(verificationMethod)
  let verifier = ed25519Verifiers.get(cacheKey)
  if (verifier === undefined) {
    verifier = (async () => {
      // The library reads and checks the method as before; only the imported key is kept.
      const keyPair = await Ed25519Multikey.from(verificationMethod)
      const publicKey: KeyObject = createPublicKey({ key: await Ed25519Multikey.toJwk({ keyPair }) as never, format: 'jwk' })
      const id = keyPair.id ?? String(verificationMethod.id)
      return { id, algorithm: 'Ed25519' as const, verify: async ({ data, signature }) => cryptoVerify(null, data, publicKey, signature) }
    })()
    ed25519Verifiers.set(cacheKey, verifier)
    verifier.catch(() => { ed25519Verifiers.delete(cacheKey) })
  }
  return await verifier
}

/** Suites by name; `verifiers`: the runner's cache, when it keeps one (eddsa-rdfc-2022 then imports each key once). */
export const SUITE_FACTORIES: Record<string, (verifiers?: VerifierCache) => unknown | Promise<unknown>> = {
  'DataIntegrityProof/eddsa-rdfc-2022': (verifiers) => new DataIntegrityProof({
    cryptosuite: verifiers === undefined ? eddsaRdfc2022 : { ...eddsaRdfc2022, createVerifier: async (options: { verificationMethod: Json }) => await cachedEd25519Verifier(options, verifiers) }
  }),
  // The draft name of eddsa-rdfc-2022 (same algorithm), still on older badges. Verification
  // only: its package has no signer, and runSign uses eddsa-rdfc-2022. Its proofs were made
  // under the data-integrity/v1 context, which the suite must add instead of v2 (the two
  // both protect "DataIntegrityProof" and would collide). Imported on first use: the package
  // brings its own jsonld and costs about 200 ms at every thread's start, for rare old badges.
  'DataIntegrityProof/eddsa-2022': async () => {
    const { cryptosuite: eddsa2022 } = await import('@digitalbazaar/eddsa-2022-cryptosuite')
    return new DataIntegrityProof({ cryptosuite: eddsa2022, legacyContext: true })
  },
  'DataIntegrityProof/ecdsa-sd-2023': () => new DataIntegrityProof({ cryptosuite: ecdsaSd2023() }),
  Ed25519Signature2020: () => new Ed25519Signature2020()
}

// Wherever these tasks run (a thread, or this process when it has no pool),
// jsonld runs without deep copies of term definitions: about 3x faster signing
// and verification. Importing this module is what installs it.
installSharedTermDefinitions()

interface Signer { id: string, algorithm: 'Ed25519', sign: (input: { data: Uint8Array }) => Promise<Uint8Array> }

/** Signers by key, their private keys imported (whoever runs the tasks owns one: a thread, or an inline runner). */
export type SignerCache = LRUCache<string, Promise<Signer>>

/**
 * The key's signer, with its private key imported once per cache (the
 * library's own signer imports it on every signature: 0.4 ms). Ed25519 is
 * deterministic, so this signs byte for byte as the library would.
 */
async function signerOf (key: KeyMaterial, signers?: SignerCache): Promise<Signer> {
  const cacheKey = `${key.id}\u0000${key.secretKeyMultibase}`
  let signer = signers?.get(cacheKey)
  if (signer === undefined) {
    signer = (async () => {
      const keyPair = await Ed25519Multikey.from({ ...key, type: 'Multikey' })
      const jwk = await Ed25519Multikey.toJwk({ keyPair, secretKey: true }) as { d: string }
      // The multikey's secret key is seed and public key (64 bytes); a JWK's d is the seed.
      const privateKey = createPrivateKey({ key: { ...jwk, d: Buffer.from(jwk.d, 'base64url').subarray(0, 32).toString('base64url') }, format: 'jwk' })
      return { id: key.id, algorithm: 'Ed25519' as const, sign: async ({ data }: { data: Uint8Array }) => cryptoSign(null, data, privateKey) }
    })()
    if (signers !== undefined) {
      signers.set(cacheKey, signer)
      signer.catch(() => { signers.delete(cacheKey) })
    }
  }
  return await signer
}

/** Signs: an eddsa-rdfc-2022 proof, JSON-LD in safe mode (an undefined term fails here, not at the verifier). */
export async function runSign (task: SignTask, signers?: SignerCache): Promise<Json> {
  const suite = new DataIntegrityProof({ signer: await signerOf(task.key, signers), cryptosuite: eddsaRdfc2022, date: task.created })
  return await vc.issue({ credential: task.credential, suite, documentLoader: staticDocumentLoader }) as Json
}

function findNotAvailable (error: unknown, depth = 0): DocumentNotAvailableError | undefined {
  if (error instanceof DocumentNotAvailableError) return error
  if (depth > 5 || error === null || typeof error !== 'object') return undefined
  const e = error as { cause?: unknown, errors?: unknown, details?: { cause?: unknown } }
  const errors = Array.isArray(e.errors) ? e.errors as unknown[] : e.errors === undefined ? [] : [e.errors]
  for (const next of [e.cause, e.details?.cause, ...errors]) {
    const found = findNotAvailable(next, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

function describeError (error: unknown): string {
  const list = (error as { errors?: unknown } | undefined)?.errors
  const errors = Array.isArray(list) ? list as unknown[] : list === undefined ? [] : [list]
  const first = (errors[0] ?? error) as { message?: unknown, name?: unknown, details?: { event?: { message?: unknown, details?: unknown } } } | undefined
  const event = first?.details?.event
  if (first?.name === 'jsonld.ValidationError' && event !== undefined) {
    // Safe mode: the signed data would silently lose terms its @context does not define.
    return `the credential uses terms its "@context" does not define (JSON-LD safe mode: ${String(event.message)} ${JSON.stringify(event.details ?? {})})`
  }
  return typeof first?.message === 'string' ? first.message : String(first)
}

function proofError (error: unknown): ProofError {
  const missing = findNotAvailable(error)
  return { description: describeError(error), ...(missing !== undefined ? { missingUrl: missing.url } : {}), noMatchingProof: (error as { name?: unknown } | undefined)?.name === 'NotFoundError' }
}

function proofPurpose (purpose: VerifyTask['purpose']): unknown {
  if (purpose === undefined) return new jsigs.purposes.AssertionProofPurpose()
  // AuthenticationProofPurpose insists on a challenge; a proof without one is judged by its controller alone.
  if (purpose.challenge === undefined) return new jsigs.purposes.ControllerProofPurpose({ term: purpose.term })
  return new jsigs.purposes.AuthenticationProofPurpose({ challenge: purpose.challenge, ...(purpose.domain !== undefined ? { domain: purpose.domain } : {}) })
}

/**
 * Verifies a proof set in one jsonld-signatures call with one suite instance
 * per cryptosuite (the library then canonicalises once per suite, not once
 * per proof). Keys come only from `documents`; nothing is fetched.
 */
export async function runVerify (task: VerifyTask, verifiers?: VerifierCache): Promise<VerifyResult> {
  const documents = new Map(Object.entries(task.documents))
  const documentLoader = createDocumentLoader(async (url) => documents.get(url))
  const suites = await Promise.all(task.suites.map(async (name) => {
    const create = SUITE_FACTORIES[name]
    if (create === undefined) throw new Error(`No suite "${name}"`)
    return await create(verifiers)
  }))
  try {
    const outcome = await jsigs.verify(task.document, { suite: suites, purpose: proofPurpose(task.purpose), documentLoader }) as { results?: unknown, error?: unknown }
    const results = (Array.isArray(outcome.results) ? outcome.results : []) as Array<{ proof: unknown, verified: boolean, error?: unknown }>
    return {
      results: results.map((r) => ({ proof: r.proof, verified: r.verified === true, ...(r.error !== undefined ? { error: proofError(r.error) } : {}) })),
      ...(outcome.error !== undefined ? { setError: proofError(outcome.error) } : {})
    }
  } catch (error) {
    // jsigs reports most problems in its result; anything thrown is a document it could not process.
    return { results: [], setError: proofError(error) }
  }
}

async function canonicalStatements (document: Json): Promise<Set<string>> {
  // Not safe mode: a term the plain reading leaves undefined must show up as a missing statement, not as an error.
  const nquads = await jsonld.canonize(document, { algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader: staticDocumentLoader, safe: false }) as string
  return new Set(nquads.split('\n').filter((line) => line !== ''))
}

/**
 * Canonicalises both readings (RDFC-1.0, blank nodes labelled canonically)
 * and returns the statements that only one of them makes. Both empty: the
 * same dataset.
 */
export async function runCompareDatasets (task: CompareDatasetsTask): Promise<DatasetDifference> {
  const [signed, plain] = await Promise.all([canonicalStatements(task.signed), canonicalStatements(task.plain)])
  return { onlySigned: [...signed].filter((s) => !plain.has(s)), onlyPlain: [...plain].filter((s) => !signed.has(s)) }
}

type TaskResult = Json | VerifyResult | DatasetDifference

/** Runs one task with nothing kept between tasks (each signature imports its key). */
export default async function runTask (task: Task, signers?: SignerCache, verifiers?: VerifierCache): Promise<TaskResult> {
  switch (task.kind) {
    case 'sign': return await runSign(task, signers)
    case 'verify': return await runVerify(task, verifiers)
    case 'compare-datasets': return await runCompareDatasets(task)
    case 'ready': return {}
  }
}

/**
 * A task runner with its own signers (a few keys per deployment; 100 is
 * plenty) and Ed25519 verifiers (other issuers' keys too; 1,000): each
 * worker thread makes one (thread.ts), and so does an inline
 * Data Integrity service (pool.ts). Nothing is shared between runners.
 */
export function createTaskRunner (): (task: Task) => Promise<TaskResult> {
  const signers: SignerCache = new LRUCache({ max: 100 })
  const verifiers: VerifierCache = new LRUCache({ max: 1000 })
  return async (task) => await runTask(task, signers, verifiers)
}
