import jsigs from 'jsonld-signatures'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { createVerifyCryptosuite as ecdsaSd2023 } from '@digitalbazaar/ecdsa-sd-2023-cryptosuite'
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020'
import { createDocumentLoader, DocumentNotAvailableError } from '../jsonld/document-loader.js'
import { isObject } from '../json.js'
import { asArray } from './credential-fields.js'
import { resolveVerificationMethod, type ResolvedKey } from './key-resolution.js'

/**
 * Checks Data Integrity proofs with jsonld-signatures directly (not
 * vc.verifyCredential, which would reject expired credentials before any
 * crypto and ignores revocation). JSON-LD runs in safe mode inside the suites
 * and the document loader never touches the network.
 */

type Json = Record<string, unknown>
const { AssertionProofPurpose } = jsigs.purposes

const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1'
const ED25519_2020_CONTEXT = 'https://w3id.org/security/suites/ed25519-2020/v1'
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'

// eddsa-2022 (the draft name of eddsa-rdfc-2022) is left out: its only sample
// needs the data-integrity/v1 context, which collides with credentials/v1 in
// safe mode, and nothing current issues it.
const SUITES: Record<string, { label: string, create: () => unknown, keyFormat: 'Multikey' | 'Ed25519VerificationKey2020', keyType: ResolvedKey['keyType'] }> = {
  'DataIntegrityProof/eddsa-rdfc-2022': { label: 'eddsa-rdfc-2022', create: () => new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }), keyFormat: 'Multikey', keyType: 'Ed25519' },
  'DataIntegrityProof/ecdsa-sd-2023': { label: 'ecdsa-sd-2023', create: () => new DataIntegrityProof({ cryptosuite: ecdsaSd2023() }), keyFormat: 'Multikey', keyType: 'P-256' },
  Ed25519Signature2020: { label: 'Ed25519Signature2020', create: () => new Ed25519Signature2020(), keyFormat: 'Ed25519VerificationKey2020', keyType: 'Ed25519' }
}

export type ProofOutcome =
  | { result: 'passed', suite: string, key: ResolvedKey, signature: SignatureFacts }
  | { result: 'failed' | 'unknown', suite: string, message: string, key?: ResolvedKey }
  | { result: 'unsupported', suite: string, message: string }

function suiteName (proof: Json): string {
  const type = typeof proof.type === 'string' ? proof.type : '(no type)'
  return type === 'DataIntegrityProof' && typeof proof.cryptosuite === 'string' ? `${type}/${proof.cryptosuite}` : type
}

function keyDocuments (key: ResolvedKey, format: 'Multikey' | 'Ed25519VerificationKey2020'): Map<string, Json> {
  const keyDocument: Json = {
    '@context': format === 'Multikey' ? MULTIKEY_CONTEXT : ED25519_2020_CONTEXT,
    id: key.verificationMethod,
    type: format,
    controller: key.controller,
    publicKeyMultibase: key.publicKeyMultibase
  }
  // The controller document lists the key under assertionMethod, which is
  // what AssertionProofPurpose checks. A bare did:key is both at one URL.
  const controllerDocument: Json = key.controller === key.verificationMethod
    ? { ...keyDocument, '@context': [DID_CONTEXT, keyDocument['@context']], assertionMethod: [key.verificationMethod] }
    : { '@context': DID_CONTEXT, id: key.controller, assertionMethod: [key.verificationMethod] }
  return new Map([[key.verificationMethod, keyDocument], [key.controller, controllerDocument]])
}

function describeError (error: unknown): string {
  const errors = asArray((error as { errors?: unknown } | undefined)?.errors)
  const first = (errors[0] ?? error) as { message?: unknown, name?: unknown, details?: { event?: { message?: unknown, details?: unknown } } } | undefined
  const event = first?.details?.event
  if (first?.name === 'jsonld.ValidationError' && event !== undefined) {
    // Safe mode: the signed data would silently lose terms its @context does not define.
    return `the credential uses terms its "@context" does not define (JSON-LD safe mode: ${String(event.message)} ${JSON.stringify(event.details ?? {})})`
  }
  return typeof first?.message === 'string' ? first.message : String(first)
}

function findNotAvailable (error: unknown, depth = 0): DocumentNotAvailableError | undefined {
  if (error instanceof DocumentNotAvailableError) return error
  if (depth > 5 || error === null || typeof error !== 'object') return undefined
  const e = error as { cause?: unknown, errors?: unknown, details?: { cause?: unknown } }
  for (const next of [e.cause, e.details?.cause, ...asArray(e.errors)]) {
    const found = findNotAvailable(next, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

interface Pending { proof: Json, suite: typeof SUITES[string], key: ResolvedKey }

/** A proof without the `@context` jsonld-signatures adds to each proof it verifies, as a matching key. */
const proofKey = (proof: unknown): string => {
  if (!isObject(proof)) return ''
  const { '@context': _, ...rest } = proof
  return JSON.stringify(rest)
}

/** When a proof says it was made, and its signature value: what a withdrawn key is judged by. */
export interface SignatureFacts { created?: string, value?: string }

function outcomeOf (pending: Pending, verified: boolean, error: unknown): ProofOutcome {
  const { suite, key } = pending
  if (verified) {
    const created = typeof pending.proof.created === 'string' ? pending.proof.created : undefined
    const value = typeof pending.proof.proofValue === 'string' ? pending.proof.proofValue : undefined
    return { result: 'passed', suite: suite.label, key, signature: { ...(created !== undefined ? { created } : {}), ...(value !== undefined ? { value } : {}) } }
  }
  const missing = findNotAvailable(error)
  if (missing !== undefined) return { result: 'unknown', suite: suite.label, key, message: `The document "${missing.url}" needed to check the proof is not available offline.` }
  if (error === undefined) return { result: 'failed', suite: suite.label, key, message: `The ${suite.label} proof was not checked: its "proofPurpose" must be "assertionMethod".` }
  return { result: 'failed', suite: suite.label, key, message: `The ${suite.label} signature does not verify: ${describeError(error)}` }
}

/**
 * Verifies every proof of a proof set over the credential without them, in
 * one jsonld-signatures call with one suite instance per cryptosuite: the
 * library then canonicalises the document once per suite, not once per proof.
 * Outcomes come back in the order of `proofs`.
 */
export async function verifyProofSet (credential: Json, proofs: readonly unknown[]): Promise<ProofOutcome[]> {
  const outcomes: Array<ProofOutcome | Pending> = proofs.map((proof) => {
    if (!isObject(proof)) return { result: 'failed', suite: '(none)', message: 'A "proof" entry is not an object.' }
    const name = suiteName(proof)
    const suite = SUITES[name]
    if (suite === undefined) return { result: 'unsupported', suite: name, message: `The proof suite "${name}" is not supported by this verifier.` }
    const resolution = resolveVerificationMethod(proof.verificationMethod)
    if (!resolution.ok) return { result: resolution.result, suite: suite.label, message: resolution.message }
    const key = resolution.key
    if (key.keyType !== suite.keyType) {
      return { result: 'failed', suite: suite.label, key, message: `A ${suite.label} proof cannot be made with the ${key.keyType} key "${key.verificationMethod}".` }
    }
    return { proof, suite, key }
  })
  const pending = outcomes.filter((o): o is Pending => 'proof' in o)
  if (pending.length === 0) return outcomes as ProofOutcome[]

  const documents = new Map(pending.flatMap((p) => [...keyDocuments(p.key, p.suite.keyFormat)]))
  const documentLoader = createDocumentLoader(async (url) => documents.get(url))
  const suites = [...new Set(pending.map((p) => p.suite))].map((suite) => suite.create())
  let results: Array<{ proof: unknown, verified: boolean, error?: unknown }> = []
  let setError: unknown
  try {
    const outcome = await jsigs.verify({ ...credential, proof: pending.map((p) => p.proof) }, {
      suite: suites,
      purpose: new AssertionProofPurpose(),
      documentLoader
    })
    results = asArray(outcome.results) as typeof results
    setError = outcome.error
  } catch (error) {
    // jsigs reports most problems in its result; anything thrown is a document it could not process.
    setError = error
  }
  const byProof = new Map(results.map((r) => [proofKey(r.proof), r]))
  return outcomes.map((o) => {
    if (!('proof' in o)) return o
    const result = byProof.get(proofKey(o.proof))
    if (result === undefined) {
      if (setError !== undefined && findNotAvailable(setError) === undefined && !isNoMatchingProof(setError)) {
        return { result: 'failed', suite: o.suite.label, key: o.key, message: `The ${o.suite.label} proof could not be processed: ${describeError(setError)}` }
      }
      return outcomeOf(o, false, findNotAvailable(setError))
    }
    return outcomeOf(o, result.verified, result.error)
  })
}

const isNoMatchingProof = (error: unknown): boolean => (error as { name?: unknown } | undefined)?.name === 'NotFoundError'
