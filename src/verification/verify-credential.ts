import { isObject, summarise } from './credential-fields.js'
import { checkFormat } from './format-check.js'
import { credentialFromPayload } from './jwt-claims.js'
import { noticeFor } from './notice.js'
import { parseInput } from './parse-input.js'
import { checkDataIntegrity, checkJwt, type ProofChecks } from './proof-check.js'
import { verifyJwtProof } from './proof-jwt.js'
import { deriveStatus, failed, skipped, type Check, type CheckId, type VerificationResult } from './result.js'
import { checkSchema } from './schema-check.js'
import type { VerificationSources } from './sources.js'
import { checkStatus } from './status-check.js'
import { checkValidityPeriod } from './validity-period.js'

type Json = Record<string, unknown>

export interface VerifyDeps {
  /** The clock: revocation is always judged as of now. */
  now: Date
  sources: VerificationSources
}

export interface VerifyOptions {
  /** Evaluation time for the validity period ("was it valid at that moment?"); defaults to now. */
  at?: Date
}

const ALL_AFTER_FORMAT: CheckId[] = ['schema', 'proof', 'key_binding', 'validity_period', 'status']

/**
 * Verifies an Open Badges 3.0 credential: a JSON-LD object with Data
 * Integrity proof(s), a compact VC-JWT, or an EnvelopedVerifiableCredential.
 * Never throws for a bad credential; the verdict is derived from the checks.
 */
export async function verifyCredential (input: unknown, deps: VerifyDeps, options: VerifyOptions = {}): Promise<VerificationResult> {
  const { now, sources } = deps
  const at = options.at ?? now
  const parsed = parseInput(input)
  if (parsed.kind === 'unparseable') return finish(now, {}, [failed('format', `The input is not a credential: ${parsed.reason}.`), ...ALL_AFTER_FORMAT.map((id) => skipped(id, 'format'))])

  let credential: Json
  let proofChecks: (credential: Json) => Promise<ProofChecks>
  let jwtProof: Check | undefined
  if (parsed.kind === 'jwt') {
    const outcome = await verifyJwtProof(parsed.jwt, sources)
    if (outcome.payload === undefined) return finish(now, {}, [failed('format', `The VC-JWT cannot be decoded: ${outcome.proof.message}`), ...ALL_AFTER_FORMAT.map((id) => skipped(id, 'format'))])
    credential = credentialFromPayload(outcome.payload)
    proofChecks = async (c) => await checkJwt(outcome, c, sources)
    jwtProof = { id: 'proof', result: outcome.proof.result, message: outcome.proof.message }
  } else {
    credential = parsed.credential
    proofChecks = async (c) => await checkDataIntegrity(c, sources)
  }

  const format = checkFormat(credential)
  if (format.result !== 'passed') {
    // A JWS signature does not depend on the credential's shape, so its verdict is still worth reporting.
    const rest = ALL_AFTER_FORMAT.map((id) => id === 'proof' && jwtProof !== undefined ? jwtProof : skipped(id, 'format'))
    return finish(now, credential, [format, ...rest])
  }

  const schema = checkSchema(credential)
  const [proof, status] = await Promise.all([proofChecks(credential), checkStatus(credential, now, sources)])
  const validity = checkValidityPeriod(credential, at)
  return finish(now, credential, [format, schema.check, proof.proof, proof.keyBinding, validity, status.check],
    [...schema.warnings, ...proof.warnings, ...status.warnings], status.revoked)
}

function finish (now: Date, credential: Json, checks: Check[], warnings: string[] = [], revoked = false): VerificationResult {
  const status = deriveStatus(checks)
  const summary = isObject(credential) ? summarise(credential) : {}
  const problems = checks.filter((c) => c.result !== 'passed')
  // The reason quoted in the notice: the first failure, else the first thing we could not establish.
  const reason = (problems.find((c) => c.result === 'failed' && c.reason === undefined) ?? problems.find((c) => c.result === 'unknown') ?? problems[0])?.message ?? ''
  const suspendedOnly = !checks.some((c) => c.result === 'failed' && c.reason === undefined) && checks.some((c) => c.reason === 'suspended')
  const notice = noticeFor(status, summary, reason, suspendedOnly)
  return {
    verified: status === 'valid',
    status,
    expired: checks.some((c) => c.reason === 'expired'),
    revoked,
    ...(notice === undefined ? {} : { notice }),
    checks,
    credential: summary,
    checkedAt: now.toISOString(),
    errors: problems.map((c) => ({ id: c.id, message: c.message })),
    warnings
  }
}
