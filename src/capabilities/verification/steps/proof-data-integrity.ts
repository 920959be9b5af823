import type { DataIntegrity } from '../../../infrastructure/signing/pool.js'
import runTask, { type ProofError, type VerifyResult } from '../../../infrastructure/signing/tasks.js'
import { isObject } from '../../../kernel/json.js'
import { resolveVerificationMethod, type KeyResolution, type ResolvedKey } from './key-resolution.js'
import type { ForeignKeyResolution } from '../foreign/controller-document.js'
import type { VerificationSources } from '../sources.js'

/**
 * Checks Data Integrity proofs with jsonld-signatures directly (not
 * vc.verifyCredential, which would reject expired credentials before any
 * crypto and ignores revocation). JSON-LD runs in safe mode inside the suites
 * and the document loader never touches the network.
 */

type Json = Record<string, unknown>

const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1'
const ED25519_2020_CONTEXT = 'https://w3id.org/security/suites/ed25519-2020/v1'
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'

// eddsa-2022 is the draft name of eddsa-rdfc-2022 (RDFC-1.0, SHA-256, Ed25519),
// accepted for verification only (signing/tasks.ts: its legacy context).
const SUITES: Record<string, { label: string, keyFormat: 'Multikey' | 'Ed25519VerificationKey2020', keyType: ResolvedKey['keyType'] }> = {
  'DataIntegrityProof/eddsa-rdfc-2022': { label: 'eddsa-rdfc-2022', keyFormat: 'Multikey', keyType: 'Ed25519' },
  'DataIntegrityProof/eddsa-2022': { label: 'eddsa-2022', keyFormat: 'Multikey', keyType: 'Ed25519' },
  'DataIntegrityProof/ecdsa-sd-2023': { label: 'ecdsa-sd-2023', keyFormat: 'Multikey', keyType: 'P-256' },
  Ed25519Signature2020: { label: 'Ed25519Signature2020', keyFormat: 'Ed25519VerificationKey2020', keyType: 'Ed25519' }
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

/** Verification methods that needed the network, as the sources dereferenced them (foreign/controller-document.ts). */
export type ForeignProofKeys = ReadonlyMap<string, ForeignKeyResolution>

/**
 * Dereferences, through `sources`, the verification methods of `proofs` that
 * cannot be read offline (https controller documents, did:web). Done before
 * the proofs are checked, so the check itself stays pure: its memo is keyed
 * by the keys as they were read.
 */
export async function resolveForeignProofKeys (proofs: readonly unknown[], sources: Pick<VerificationSources, 'findForeignKey'>): Promise<ForeignProofKeys> {
  const find = sources.findForeignKey
  if (find === undefined) return new Map()
  const wanted = new Set(proofs.flatMap((proof) => {
    if (!isObject(proof) || typeof proof.verificationMethod !== 'string') return []
    const offline = resolveVerificationMethod(proof.verificationMethod)
    return !offline.ok && offline.result === 'unknown' ? [proof.verificationMethod] : []
  }))
  return new Map(await Promise.all([...wanted].map(async (id) => [id, await find(id)] as const)))
}

function withForeignKey (offline: KeyResolution, verificationMethod: unknown, foreignKeys: ForeignProofKeys): KeyResolution {
  if (offline.ok || offline.result !== 'unknown' || typeof verificationMethod !== 'string') return offline
  const foreign = foreignKeys.get(verificationMethod)
  if (foreign === undefined) return offline
  if (!foreign.ok) return foreign
  const { key } = foreign
  if (key.publicKeyMultibase === undefined || key.keyType === 'RSA') return { ok: false, result: 'failed', message: `The verification method "${verificationMethod}" holds an ${key.keyType} key, which no Data Integrity suite this verifier supports uses.` }
  return { ok: true, key: { verificationMethod, controller: key.controller, publicKeyMultibase: key.publicKeyMultibase, keyType: key.keyType, publishedAt: key.documentUrl } }
}

interface Pending { proof: Json, name: string, suite: typeof SUITES[string], key: ResolvedKey }

/** A proof without the `@context` jsonld-signatures adds to each proof it verifies, as a matching key. */
const proofKey = (proof: unknown): string => {
  if (!isObject(proof)) return ''
  const { '@context': _, ...rest } = proof
  return JSON.stringify(rest)
}

/** When a proof says it was made, and its signature value: what a withdrawn key is judged by. */
export interface SignatureFacts { created?: string, value?: string }

function outcomeOf (pending: Pending, verified: boolean, error: ProofError | undefined): ProofOutcome {
  const { suite, key } = pending
  if (verified) {
    const created = typeof pending.proof.created === 'string' ? pending.proof.created : undefined
    const value = typeof pending.proof.proofValue === 'string' ? pending.proof.proofValue : undefined
    return { result: 'passed', suite: suite.label, key, signature: { ...(created !== undefined ? { created } : {}), ...(value !== undefined ? { value } : {}) } }
  }
  if (error?.missingUrl !== undefined) return { result: 'unknown', suite: suite.label, key, message: `The document "${error.missingUrl}" needed to check the proof is not available offline.` }
  if (error === undefined) return { result: 'failed', suite: suite.label, key, message: `The ${suite.label} proof was not checked: its "proofPurpose" must be "assertionMethod".` }
  return { result: 'failed', suite: suite.label, key, message: `The ${suite.label} signature does not verify: ${error.description}` }
}

/**
 * Verifies every proof of a proof set over the credential without them, in
 * one jsonld-signatures call with one suite instance per cryptosuite: the
 * library then canonicalises the document once per suite, not once per proof.
 * Outcomes come back in the order of `proofs`. The work runs where
 * `dataIntegrity` runs it (the app's threads), else on this thread.
 * `signedHere`: the document is one this service signed and stored, byte for
 * byte (sources.isOwnDocument): its signatures are not checked again.
 */
export async function verifyProofSet (credential: Json, proofs: readonly unknown[], dataIntegrity?: DataIntegrity, foreignKeys: ForeignProofKeys = new Map(), signedHere = false): Promise<ProofOutcome[]> {
  const outcomes: Array<ProofOutcome | Pending> = proofs.map((proof) => {
    if (!isObject(proof)) return { result: 'failed', suite: '(none)', message: 'A "proof" entry is not an object.' }
    const name = suiteName(proof)
    const suite = SUITES[name]
    if (suite === undefined) return { result: 'unsupported', suite: name, message: `The proof suite "${name}" is not supported by this verifier.` }
    // Said before any crypto: jsonld-signatures only reports that no proof matched the purpose.
    if (proof.proofPurpose !== 'assertionMethod') return { result: 'failed', suite: suite.label, message: `The ${suite.label} proof's "proofPurpose" is ${JSON.stringify(proof.proofPurpose ?? null)}; a credential's proof must be "assertionMethod".` }
    const resolution = withForeignKey(resolveVerificationMethod(proof.verificationMethod), proof.verificationMethod, foreignKeys)
    if (!resolution.ok) return { result: resolution.result, suite: suite.label, message: resolution.message }
    const key = resolution.key
    if (key.keyType !== suite.keyType) {
      return { result: 'failed', suite: suite.label, key, message: `A ${suite.label} proof cannot be made with the ${key.keyType} key "${key.verificationMethod}".` }
    }
    return { proof, name, suite, key }
  })
  const pending = outcomes.filter((o): o is Pending => 'proof' in o)
  if (pending.length === 0) return outcomes as ProofOutcome[]
  // Every check above still ran (suite, purpose, key, key type); only the signatures are known good.
  if (signedHere) return outcomes.map((o) => 'proof' in o ? outcomeOf(o, true, undefined) : o)

  const documents = Object.fromEntries(pending.flatMap((p) => [...keyDocuments(p.key, p.suite.keyFormat)]))
  const task = {
    kind: 'verify' as const,
    document: { ...credential, proof: pending.map((p) => p.proof) },
    suites: [...new Set(pending.map((p) => p.name))],
    documents
  }
  const { results, setError } = dataIntegrity === undefined ? await runTask(task) as VerifyResult : await dataIntegrity.run<VerifyResult>(task)
  const byProof = new Map(results.map((r) => [proofKey(r.proof), r]))
  return outcomes.map((o) => {
    if (!('proof' in o)) return o
    const result = byProof.get(proofKey(o.proof))
    if (result === undefined) {
      if (setError !== undefined && setError.missingUrl === undefined && !setError.noMatchingProof) {
        return { result: 'failed', suite: o.suite.label, key: o.key, message: `The ${o.suite.label} proof could not be processed: ${setError.description}` }
      }
      return outcomeOf(o, false, setError?.missingUrl !== undefined ? setError : undefined)
    }
    return outcomeOf(o, result.verified, result.error)
  })
}
