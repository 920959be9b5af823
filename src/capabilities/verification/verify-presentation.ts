import { STATIC_CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import { exceedsJsonLimits } from '../../infrastructure/http/json-body.js'
import { isObject } from '../../kernel/json.js'
import { VCDM1_CONTEXT, VCDM2_CONTEXT, asArray, contexts, types } from './credential-fields.js'
import { LIMITS } from './limits.js'
import { verifyPresentationProof, type PresentationProofOutcome } from './presentation-proof.js'
import type { CheckOutcome, VerificationResult } from './result.js'
import { verifyCredential, type VerifyDeps } from './verify-credential.js'

/**
 * Verifies a W3C verifiable presentation (VC API "verify presentation"): its
 * holder's proof, that the proof answers this verifier's `challenge` and
 * `domain`, that the holder it names signed it, and each credential in it
 * with exactly the checks POST /credentials/verify runs. Verified only when
 * the presentation and every credential are.
 */

type Json = Record<string, unknown>

export type PresentationCheckId = 'format' | 'proof' | 'challenge' | 'domain' | 'holder_binding'
export interface PresentationCheck { id: PresentationCheckId, result: CheckOutcome, message: string }

export interface PresentationResult {
  verified: boolean
  checks: PresentationCheck[]
  errors: Array<{ id: PresentationCheckId, message: string }>
  warnings: string[]
}

export interface PresentationVerification {
  verified: boolean
  presentationResult: PresentationResult
  /** One result per entry of `verifiableCredential`, in order. */
  credentialResults: VerificationResult[]
  checkedAt: string
  /** Every problem, named by where it is: `presentation.proof`, `verifiableCredential[1].status`. */
  errors: Array<{ id: string, message: string }>
  warnings: string[]
}

export interface PresentationOptions { challenge?: string, domain?: string }

/** Credentials in one presentation: each is a full verification, with its own fetch budget. */
export const MAX_PRESENTED_CREDENTIALS = 8

const check = (id: PresentationCheckId, result: CheckOutcome, message: string): PresentationCheck => ({ id, result, message })
const skipped = (id: PresentationCheckId, because: PresentationCheckId): PresentationCheck => check(id, 'unknown', `Not checked because the "${because}" check did not pass.`)

function holderId (presentation: Json): string | undefined {
  const holder = presentation.holder
  const id = isObject(holder) ? holder.id : holder
  return typeof id === 'string' && id !== '' ? id : undefined
}

function checkFormat (presentation: Json): PresentationCheck {
  const problems: string[] = []
  const context = contexts(presentation)
  if (context[0] !== VCDM2_CONTEXT && context[0] !== VCDM1_CONTEXT) problems.push(`"@context" must start with "${VCDM2_CONTEXT}" (or, for VCDM 1.1, "${VCDM1_CONTEXT}").`)
  const unknown = context.filter((c): c is string => typeof c === 'string' && !STATIC_CONTEXTS.has(c))
  if (unknown.length > 0) problems.push(`"@context" names ${unknown.map((c) => `"${c}"`).join(', ')}, which this verifier does not hold (contexts are never fetched).`)
  if (!types(presentation).includes('VerifiablePresentation')) problems.push('"type" must include "VerifiablePresentation".')
  if (presentation.holder !== undefined && holderId(presentation) === undefined) problems.push('"holder" must be a URL, or an object with an "id".')
  const credentials = asArray(presentation.verifiableCredential)
  if (credentials.length > MAX_PRESENTED_CREDENTIALS) problems.push(`"verifiableCredential" holds ${credentials.length} credentials; this verifier checks at most ${MAX_PRESENTED_CREDENTIALS} in one presentation.`)
  // Each credential is bounded by verifyCredential; the presentation as a whole by the same limits, once per credential it may hold.
  const tooBig = exceedsJsonLimits(presentation, { depth: LIMITS.depth + 2, nodes: LIMITS.nodes * 2 })
  if (tooBig !== undefined) problems.push(`The presentation is too large to verify: ${tooBig}.`)
  if (problems.length > 0) return check('format', 'failed', problems.join(' '))
  return check('format', 'passed', 'The document is shaped like a verifiable presentation.')
}

function checkChallenge (proof: Json, asked: string | undefined, warnings: string[]): PresentationCheck {
  const carried = proof.challenge
  if (asked === undefined) {
    warnings.push('No "challenge" was asked for, so nothing shows this presentation was made for this request rather than replayed.')
    return check('challenge', 'passed', 'No challenge was asked for.')
  }
  if (carried === undefined) return check('challenge', 'failed', `The presentation's proof carries no "challenge"; "${asked}" was asked for.`)
  if (carried !== asked) return check('challenge', 'failed', `The presentation's proof answers the challenge ${JSON.stringify(carried)}, not "${asked}".`)
  return check('challenge', 'passed', 'The presentation\'s proof answers the challenge asked for.')
}

function checkDomain (proof: Json, asked: string | undefined): PresentationCheck {
  if (asked === undefined) return check('domain', 'passed', 'No domain was asked for.')
  const carried = proof.domain
  if (carried === asked || (Array.isArray(carried) && carried.includes(asked))) return check('domain', 'passed', 'The presentation\'s proof is for the domain asked for.')
  if (carried === undefined) return check('domain', 'failed', `The presentation's proof names no "domain"; "${asked}" was asked for.`)
  return check('domain', 'failed', `The presentation's proof is for the domain ${JSON.stringify(carried)}, not "${asked}".`)
}

function checkHolder (presentation: Json, proof: PresentationProofOutcome): PresentationCheck {
  if (proof.result !== 'passed') return skipped('holder_binding', 'proof')
  const holder = holderId(presentation)
  if (holder === undefined) return check('holder_binding', 'passed', `The presentation names no "holder"; it was signed by "${proof.key.controller}".`)
  if (proof.key.controller !== holder) return check('holder_binding', 'failed', `The presentation was signed with a key of "${proof.key.controller}", not of its holder "${holder}".`)
  return check('holder_binding', 'passed', `The presentation was signed with a key of its holder "${holder}".`)
}

async function judgePresentation (presentation: Json, deps: VerifyDeps, options: PresentationOptions): Promise<PresentationResult> {
  const warnings: string[] = []
  const format = checkFormat(presentation)
  let checks: PresentationCheck[]
  if (format.result !== 'passed') {
    checks = [format, ...(['proof', 'challenge', 'domain', 'holder_binding'] as const).map((id) => skipped(id, 'format'))]
  } else {
    const proof = await verifyPresentationProof(presentation, deps)
    const proofCheck = check('proof', proof.result, proof.message)
    checks = proof.proof === undefined
      ? [format, proofCheck, skipped('challenge', 'proof'), skipped('domain', 'proof'), skipped('holder_binding', 'proof')]
      : [format, proofCheck, checkChallenge(proof.proof, options.challenge, warnings), checkDomain(proof.proof, options.domain), checkHolder(presentation, proof)]
  }
  const problems = checks.filter((c) => c.result !== 'passed')
  return { verified: problems.length === 0, checks, errors: problems.map((c) => ({ id: c.id, message: c.message })), warnings }
}

/** Never throws for a bad presentation: what is wrong is in the result. */
export async function verifyPresentation (presentation: Json, deps: VerifyDeps, options: PresentationOptions = {}): Promise<PresentationVerification> {
  const presentationResult = await judgePresentation(presentation, deps, options)
  const format = presentationResult.checks[0]
  const credentials = format?.result === 'passed' ? asArray(presentation.verifiableCredential) : []
  const credentialResults = await Promise.all(credentials.map(async (credential) => await verifyCredential(credential, deps)))
  const errors = [
    ...presentationResult.errors.map((e) => ({ id: `presentation.${e.id}`, message: e.message })),
    ...credentialResults.flatMap((r, i) => r.errors.map((e) => ({ id: `verifiableCredential[${i}].${e.id}`, message: e.message })))
  ]
  const warnings = [...presentationResult.warnings, ...credentialResults.flatMap((r, i) => r.warnings.map((w) => `verifiableCredential[${i}]: ${w}`))]
  return {
    verified: presentationResult.verified && credentialResults.every((r) => r.verified),
    presentationResult,
    credentialResults,
    checkedAt: deps.now.toISOString(),
    errors,
    warnings
  }
}
