import { asArray, issuerId } from './credential-fields.js'
import { bindDataIntegrityKey } from './key-resolution.js'
import type { JwtOutcome } from './proof-jwt.js'
import { verifyOneProof, type ProofOutcome } from './proof-data-integrity.js'
import { claimDisagreements } from './jwt-claims.js'
import { failed, passed, skipped, unknown, type Check } from './result.js'
import type { VerificationSources } from './sources.js'

/**
 * The `proof` and `key_binding` checks for both securing mechanisms. With
 * several Data Integrity proofs, one supported proof by the issuer's key is
 * enough; proofs of suites we do not know are reported as warnings.
 */

type Json = Record<string, unknown>
export interface ProofChecks { proof: Check, keyBinding: Check, warnings: string[] }

/** Checks the Data Integrity proof(s) embedded in a JSON-LD credential. */
export async function checkDataIntegrity (credential: Json, sources: VerificationSources): Promise<ProofChecks> {
  const proofs = asArray(credential.proof)
  if (proofs.length === 0) return { proof: failed('proof', 'The credential has no "proof".'), keyBinding: skipped('key_binding', 'proof'), warnings: [] }
  const { proof: _, ...unsigned } = credential
  const issuer = issuerId(credential)
  const warnings: string[] = []
  const outcomes: ProofOutcome[] = []
  let boundFailure: Check | undefined
  for (const proof of proofs) {
    const outcome = await verifyOneProof(unsigned, proof)
    outcomes.push(outcome)
    if (outcome.result !== 'passed') continue
    const binding = await bindDataIntegrityKey(outcome.key, issuer, sources)
    if (binding.result === 'passed') {
      if (binding.warning !== undefined) warnings.push(binding.warning)
      for (const other of outcomes.slice(0, -1)) if ('message' in other) warnings.push(other.message)
      for (const rest of proofs.slice(outcomes.length)) warnings.push(`A further proof was not checked: ${JSON.stringify((rest as Json | null)?.type ?? null)}.`)
      return { proof: passed('proof', `The ${outcome.suite} proof verifies.`), keyBinding: passed('key_binding', binding.message), warnings }
    }
    boundFailure ??= { id: 'key_binding', result: binding.result, message: binding.message }
  }
  if (boundFailure !== undefined) {
    const suite = outcomes.find((o) => o.result === 'passed')?.suite ?? ''
    return { proof: passed('proof', `The ${suite} proof verifies.`), keyBinding: boundFailure, warnings }
  }
  const firstFailed = outcomes.find((o) => o.result === 'failed')
  const firstUnknown = outcomes.find((o) => o.result === 'unknown')
  const unsupported = outcomes.filter((o) => o.result === 'unsupported')
  // Unsupported suites beside a proof that failed or could not be checked are worth a mention, not a verdict.
  if (firstFailed !== undefined || firstUnknown !== undefined) for (const o of unsupported) warnings.push(o.message)
  if (firstFailed !== undefined && 'message' in firstFailed) return { proof: failed('proof', firstFailed.message), keyBinding: skipped('key_binding', 'proof'), warnings }
  if (firstUnknown !== undefined && 'message' in firstUnknown) return { proof: unknown('proof', firstUnknown.message), keyBinding: skipped('key_binding', 'proof'), warnings }
  const names = unsupported.map((o) => `"${o.suite}"`).join(', ')
  return { proof: unknown('proof', `The proof suite ${names} is not supported by this verifier, so the signature cannot be checked.`), keyBinding: skipped('key_binding', 'proof'), warnings }
}

/** Checks a VC-JWT: its signature, whose key signed it, and that its claims agree with the credential. */
export async function checkJwt (outcome: JwtOutcome, credential: Json, sources: VerificationSources): Promise<ProofChecks> {
  const proof: Check = { id: 'proof', result: outcome.proof.result, message: outcome.proof.message }
  if (proof.result !== 'passed' || outcome.key === undefined || outcome.payload === undefined) {
    return { proof, keyBinding: skipped('key_binding', 'proof'), warnings: [] }
  }
  const issuer = issuerId(credential)
  const warnings: string[] = []
  const problems = claimDisagreements(outcome.payload, credential)
  const key = outcome.key
  const own = issuer !== undefined && await sources.isOwnIssuer(issuer)
  if (key.source === 'jwk') {
    // An embedded key proves only that the token was signed by whoever holds it.
    if (own) problems.push(`The issuer "${issuer ?? ''}" is this service's own; its tokens must name a published "kid", not carry their own key.`)
    else warnings.push('The token carries its own public key ("jwk"); nothing published by the issuer ties that key to it.')
  } else if (key.issuerId !== issuer) {
    problems.push(`The key "${key.id ?? ''}" belongs to "${key.issuerId ?? ''}", not to the issuer "${issuer ?? 'none'}".`)
  } else if (key.status === 'compromised') {
    problems.push(`The key "${key.id ?? ''}" has been reported compromised.`)
  }
  if (problems.length > 0) return { proof, keyBinding: failed('key_binding', problems.join(' ')), warnings }
  return { proof, keyBinding: passed('key_binding', 'The signing key belongs to the issuer and the JWT claims agree with the credential.'), warnings }
}
