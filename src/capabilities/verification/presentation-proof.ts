import runTask, { type VerifyResult, type VerifyTask } from '../../infrastructure/signing/tasks.js'
import { isObject } from '../../kernel/json.js'
import { asArray } from './credential-fields.js'
import { resolveVerificationMethod, type ResolvedKey } from './steps/key-resolution.js'
import type { VerificationRuntime } from './sources.js'

/**
 * The Data Integrity proof of a verifiable presentation (VC Data Integrity
 * §4.3, with the "authentication" purpose of VCDM 2.0 §4.13): the holder's
 * signature over the whole presentation, credentials included. It runs where
 * credential proofs run (the Data Integrity threads), through the same
 * jsonld-signatures call with AuthenticationProofPurpose, which is what
 * @digitalbazaar/vc's verifyPresentation uses; that function is not called
 * because it would also judge each credential its own way (no status, no
 * registry), while this service's verifyCredential judges them.
 */

type Json = Record<string, unknown>

const SUITE = 'DataIntegrityProof/eddsa-rdfc-2022'
const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1'
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1'

export type PresentationProofOutcome =
  | { result: 'passed', proof: Json, key: ResolvedKey, message: string }
  | { result: 'failed' | 'unknown', proof?: Json, key?: ResolvedKey, message: string }

/**
 * The holder's key as its controller would publish it for authentication. Keys
 * are read offline only (did:key, or a key in the id's fragment), as a
 * credential's are: a holder is usually a wallet's did:key.
 */
function keyDocuments (key: ResolvedKey): Record<string, Json> {
  return {
    [key.verificationMethod]: { '@context': MULTIKEY_CONTEXT, id: key.verificationMethod, type: 'Multikey', controller: key.controller, publicKeyMultibase: key.publicKeyMultibase },
    [key.controller]: { '@context': DID_CONTEXT, id: key.controller, authentication: [key.verificationMethod] }
  }
}

const describe = (error: { description: string } | undefined): string => error?.description ?? 'no proof matched the "authentication" purpose'

/** Verifies the presentation's one proof; never throws for a bad presentation. */
export async function verifyPresentationProof (presentation: Json, runtime: VerificationRuntime = {}): Promise<PresentationProofOutcome> {
  const proofs = asArray(presentation.proof)
  if (proofs.length === 0) return { result: 'failed', message: 'The presentation has no "proof": nothing shows that its holder presented it.' }
  if (proofs.length > 1) return { result: 'failed', message: `The presentation carries ${proofs.length} proofs; this verifier checks presentations with exactly one.` }
  const proof = proofs[0]
  if (!isObject(proof)) return { result: 'failed', message: 'The presentation\'s "proof" is not an object.' }
  const name = proof.type === 'DataIntegrityProof' && typeof proof.cryptosuite === 'string' ? `${proof.type}/${proof.cryptosuite}` : String(proof.type ?? '(no type)')
  if (name !== SUITE) return { result: 'unknown', proof, message: `The proof suite "${name}" is not supported for presentations by this verifier (it checks "${SUITE}").` }
  if (proof.proofPurpose !== 'authentication') return { result: 'failed', proof, message: `The presentation's "proofPurpose" is ${JSON.stringify(proof.proofPurpose ?? null)}; a presentation's proof must be "authentication".` }
  const resolution = resolveVerificationMethod(proof.verificationMethod)
  if (!resolution.ok) return { result: resolution.result, proof, message: resolution.message }
  const key = resolution.key
  if (key.keyType !== 'Ed25519') return { result: 'failed', proof, key, message: `An eddsa-rdfc-2022 proof cannot be made with the ${key.keyType} key "${key.verificationMethod}".` }

  const task: VerifyTask = {
    kind: 'verify',
    document: presentation,
    suites: [SUITE],
    documents: keyDocuments(key),
    // The proof's own challenge and domain: the signature is judged here, their agreement with the request by the caller.
    purpose: { term: 'authentication', ...(typeof proof.challenge === 'string' ? { challenge: proof.challenge } : {}), ...(typeof proof.domain === 'string' ? { domain: proof.domain } : {}) }
  }
  const { results, setError } = runtime.dataIntegrity === undefined ? await runTask(task) as VerifyResult : await runtime.dataIntegrity.run<VerifyResult>(task)
  const outcome = results[0]
  if (outcome?.verified === true) return { result: 'passed', proof, key, message: 'The presentation\'s eddsa-rdfc-2022 proof verifies, for "authentication".' }
  const error = outcome?.error ?? setError
  if (error?.missingUrl !== undefined) return { result: 'unknown', proof, key, message: `The document "${error.missingUrl}" needed to check the presentation's proof is not available offline.` }
  return { result: 'failed', proof, key, message: `The presentation's signature does not verify: ${describe(error)}` }
}
