import { asArray, issuerId } from '../credential-fields.js'
import { LIMITS } from '../limits.js'
import { bindDataIntegrityKey, withdrawnKeyBinding, impostorMessage, publishedBinding, selfAssertedBinding, type Binding } from './key-resolution.js'
import type { JwtOutcome } from './proof-jwt.js'
import { resolveForeignProofKeys, verifyProofSet } from './proof-data-integrity.js'
import { memoised } from '../pure-check-cache.js'
import { claimDisagreements } from '../jwt-claims.js'
import { failed, passed, skipped, unknown, type Check } from '../result.js'
import type { VerificationRuntime, VerificationSources } from '../sources.js'
import type { Recognition } from '../../registry/lookup.js'

/**
 * The `proof` and `key_binding` checks for both securing mechanisms. With
 * several Data Integrity proofs, one supported proof by the issuer's key is
 * enough; proofs of suites we do not know are reported as warnings.
 */

type Json = Record<string, unknown>
export interface ProofChecks {
  proof: Check
  keyBinding: Check
  warnings: string[]
  /** The registry entry the key binding passed through, for a recognised foreign issuer. */
  recognisedIssuer?: Recognition
}

const recognised = (binding: Binding): Pick<ProofChecks, 'recognisedIssuer'> =>
  binding.result === 'passed' && binding.recognisedIssuer !== undefined ? { recognisedIssuer: binding.recognisedIssuer } : {}

const bindingCheck = (binding: Binding): Check =>
  binding.result === 'passed' ? passed('key_binding', binding.message) : binding.result === 'failed' ? failed('key_binding', binding.message) : unknown('key_binding', binding.message, binding.reason)

/**
 * Checks the Data Integrity proof(s) embedded in a JSON-LD credential.
 * `contentHash`: the credential's hash, when the caller has made it.
 */
export async function checkDataIntegrity (credential: Json, sources: VerificationSources, runtime: VerificationRuntime = {}, contentHash?: string): Promise<ProofChecks> {
  const proofs = asArray(credential.proof)
  if (proofs.length === 0) return { proof: failed('proof', 'The credential has no "proof".'), keyBinding: skipped('key_binding', 'proof'), warnings: [] }
  // Each proof costs a canonicalisation of the whole document: a few are a proof set, hundreds are an attack.
  if (proofs.length > LIMITS.proofs) {
    return { proof: failed('proof', `The credential carries ${proofs.length} proofs; this verifier checks at most ${LIMITS.proofs}.`), keyBinding: skipped('key_binding', 'proof'), warnings: [] }
  }
  const { proof: _, ...unsigned } = credential
  const issuer = issuerId(credential)
  const warnings: string[] = []
  // Keys on other servers are read first (through the cache); the signatures over this exact
  // content and those keys never change: computed once per content and keys read.
  const foreignKeys = await resolveForeignProofKeys(proofs, sources)
  // A document of our own issuer that we stored byte for byte was signed here: its
  // proofs are established by one index lookup (by any process), not a canonicalisation.
  const signedHere = async (): Promise<boolean> =>
    contentHash !== undefined && sources.isOwnDocument !== undefined && issuer !== undefined && sources.ownership(issuer) === 'own' && await sources.isOwnDocument(contentHash)
  const outcomes = foreignKeys.size === 0
    ? await memoised(runtime.pureChecks, 'proof-set', credential, async () => await verifyProofSet(unsigned, proofs, runtime.dataIntegrity, foreignKeys, await signedHere()), contentHash)
    : await memoised(runtime.pureChecks, 'proof-set', { credential, keys: [...foreignKeys] }, async () => await verifyProofSet(unsigned, proofs, runtime.dataIntegrity, foreignKeys))
  let bound: { suite: string, binding: Binding } | undefined
  for (const outcome of outcomes) {
    if (outcome.result !== 'passed') continue
    const binding = await bindDataIntegrityKey(outcome.key, issuer, sources, outcome.signature)
    // The best binding wins: passed, then self-asserted, then the first other outcome.
    const rank = (b: Binding): number => b.result === 'passed' ? 0 : b.reason === 'self_asserted' ? 1 : 2
    if (bound === undefined || rank(binding) < rank(bound.binding)) bound = { suite: outcome.suite, binding }
    if (binding.result === 'passed') break
  }
  if (bound !== undefined) {
    for (const o of outcomes) if (o.result !== 'passed') warnings.push(o.message)
    if (bound.binding.warning !== undefined) warnings.push(bound.binding.warning)
    return { proof: passed('proof', `The ${bound.suite} proof verifies.`), keyBinding: bindingCheck(bound.binding), warnings, ...recognised(bound.binding) }
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

/** A VC-JWT's signing time: iat, else nbf (NumericDate seconds). */
function jwtSigningTime (payload: Json): { created?: string } {
  const seconds = typeof payload.iat === 'number' ? payload.iat : typeof payload.nbf === 'number' ? payload.nbf : undefined
  return seconds === undefined || !Number.isFinite(seconds) ? {} : { created: new Date(seconds * 1000).toISOString() }
}

/** Checks a VC-JWT: its signature, whose key signed it, and that its claims agree with the credential. */
export async function checkJwt (outcome: JwtOutcome, credential: Json, sources: VerificationSources): Promise<ProofChecks> {
  const proof: Check = { id: 'proof', result: outcome.proof.result, message: outcome.proof.message }
  if (proof.result !== 'passed' || outcome.key === undefined || outcome.payload === undefined) {
    return { proof, keyBinding: skipped('key_binding', 'proof'), warnings: [] }
  }
  const issuer = issuerId(credential)
  const problems = claimDisagreements(outcome.payload, credential)
  const jwtWarnings: string[] = []
  const key = outcome.key
  const ownership = issuer === undefined ? 'foreign' : sources.ownership(issuer)
  if (ownership === 'impostor') problems.push(impostorMessage('issuer id', issuer ?? ''))
  if (key.source === 'own-kid') {
    if (key.issuerId !== issuer) problems.push(`The key "${key.id ?? ''}" belongs to "${key.issuerId ?? ''}", not to the issuer "${issuer ?? 'none'}".`)
    else if (key.status === 'compromised') {
      const withdrawn = await withdrawnKeyBinding(key.id ?? '', key.compromisedAt, { ...jwtSigningTime(outcome.payload), ...(outcome.signature !== undefined ? { value: outcome.signature } : {}) }, sources)
      if (withdrawn.result !== 'passed') problems.push(withdrawn.message)
      else jwtWarnings.push(withdrawn.warning ?? '')
    }
  } else if (ownership === 'own') {
    problems.push(`The issuer "${issuer ?? ''}" is this service's own; its tokens must name a published "kid", not carry their own key.`)
  } else if ((key.source === 'did-key' || key.source === 'published') && key.issuerId !== issuer) {
    problems.push(`The key "${key.id ?? ''}" belongs to "${key.issuerId ?? ''}", not to the issuer "${issuer ?? 'none'}".`)
  }
  if (problems.length > 0) return { proof, keyBinding: failed('key_binding', problems.join(' ')), warnings: [] }
  if (key.source === 'published') {
    const binding = await publishedBinding(issuer ?? '', sources, key.id ?? '', key.publishedAt ?? '')
    return { proof, keyBinding: bindingCheck(binding), warnings: [], ...recognised(binding) }
  }
  if (key.source !== 'own-kid') {
    // An embedded jwk or a did:key proves only that whoever holds the key signed.
    const description = key.source === 'jwk' ? 'the public key in the token\'s "jwk" header' : `the key "${key.id ?? ''}"`
    const binding = await selfAssertedBinding(issuer ?? '', sources, description)
    return { proof, keyBinding: bindingCheck(binding), warnings: [], ...recognised(binding) }
  }
  return { proof, keyBinding: passed('key_binding', 'The signing key belongs to the issuer and the JWT claims agree with the credential.'), warnings: jwtWarnings }
}
