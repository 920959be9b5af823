import { isObject } from '../../kernel/json.js'
import { summarise } from './credential-fields.js'
import { checkFormat } from './steps/format-check.js'
import { credentialFromPayload } from './jwt-claims.js'
import { LIMITS, exceedsVerifyLimits } from './limits.js'
import { noticeFor } from './notice.js'
import { isOpenBadge2, looksLikeAssertion } from './ob2/detect.js'
import { verifyOpenBadge2 } from './ob2/verify-open-badge-2.js'
import { decodeJwsPayload, parseInput, type ParsedInput } from './parse-input.js'
import { checkDataIntegrity, checkJwt, type ProofChecks } from './steps/proof-check.js'
import { verifyJwtProof } from './steps/proof-jwt.js'
import { deriveStatus, failed, skipped, unknown, type Check, type CheckId, type CurrentVersion, type VerificationResult } from './result.js'
import { checkSchema } from './steps/schema-check.js'
import { checkSignedData } from './steps/signed-data.js'
import { memoised, PureCheckCache } from './pure-check-cache.js'
import { SourceUnavailableError, type VerificationRuntime, type VerificationSources } from './sources.js'
import { checkStatus, type StatusOutcome } from './steps/status-check.js'
import { checkValidityPeriod } from './steps/validity-period.js'
import { inSpan } from '../../infrastructure/tracing/tracing.js'

type Json = Record<string, unknown>

export interface VerifyDeps extends VerificationRuntime {
  /** The clock: revocation is always judged as of now. */
  now: Date
  sources: VerificationSources
}

/** What an app verifies with: everything but the clock. */
export type Verifier = Omit<VerifyDeps, 'now'>

export interface VerifyOptions {
  /** Evaluation time for the validity period ("was it valid at that moment?"); defaults to now. */
  at?: Date
  /** Wall-clock budget; past it the answer is indeterminate. Defaults to the deployment's (deps.timeBudgetMs), else LIMITS.timeBudgetMs. */
  timeBudgetMs?: number
  /** The URL the input was fetched from, when it was given by its link: an OB 2.0 hosted assertion's id must be it. */
  fetchedFrom?: string
}

export const CHECK_IDS: readonly CheckId[] = ['format', 'schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status']
const ALL_AFTER_FORMAT = CHECK_IDS.slice(1)

const notRun = (because: string): Check[] => ALL_AFTER_FORMAT.map((id) => unknown(id, because))

/**
 * Verifies a verifiable credential (VCDM 1.1 or 2.0; the Open Badges checks
 * only for an Open Badge): a JSON-LD object with Data Integrity proof(s), a
 * compact VC-JWT, or an EnvelopedVerifiableCredential.
 * Never throws for a bad credential; the verdict is derived from the checks.
 * Fails closed: past its time budget, or when this service's own records
 * cannot be read, the answer is indeterminate, never valid.
 */
export async function verifyCredential (input: unknown, deps: VerifyDeps, options: VerifyOptions = {}): Promise<VerificationResult> {
  // Read once: a compact JWS's payload says both whether it is an OB 2.0 assertion and what the VC-JWT claims.
  const parsed = parseInput(input)
  const jwtPayload = parsed.kind === 'jwt' ? decodeJwsPayload(parsed.jwt) : undefined
  // Open Badges 2.0 assertions (hosted or signed) are verified by their own rules into the same result (ob2/).
  const bareJws = typeof input === 'string' && parsed.kind === 'jwt' && !input.trimStart().startsWith('{')
  const openBadge2 = bareJws ? looksLikeAssertion(jwtPayload) : isOpenBadge2(input)
  if (openBadge2) return await verifyOpenBadge2(input, deps, options)
  const budget = options.timeBudgetMs ?? deps.timeBudgetMs ?? LIMITS.timeBudgetMs
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<VerificationResult>((resolve) => {
    timer = setTimeout(() => {
      resolve(finish(deps.now, {}, [unknown('format', `Verification did not finish within ${budget} ms, so nothing about this credential is established.`), ...notRun('Not finished within the time budget.')]))
    }, budget)
  })
  const work = inSpan('verify credential', {}, async (span) => {
    const result = await runChecks(parsed, jwtPayload, deps, options.at ?? deps.now)
    span.setAttribute('tessera.verification.status', result.status)
    return result
  }).catch((error: unknown) => {
    if (!(error instanceof SourceUnavailableError)) throw error
    return finish(deps.now, {}, [unknown('format', `${error.message} Nothing about this credential can be established now; try again shortly.`), ...notRun('Not checked: the service\'s records are unavailable.')])
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A step of the pipeline in a span of its own (a no-op when tracing is off). */
const step = async <T>(id: CheckId, run: () => Promise<T>): Promise<T> => await inSpan(`verify ${id}`, {}, run)

async function runChecks (parsed: ParsedInput, jwtPayload: unknown, deps: VerifyDeps, at: Date): Promise<VerificationResult> {
  const { now } = deps
  // One fetch budget for everything this verification asks of other servers.
  const sources = deps.sources.forVerification?.() ?? deps.sources
  if (parsed.kind === 'unparseable') return finish(now, {}, [failed('format', `The input is not a credential: ${parsed.reason}.`), ...ALL_AFTER_FORMAT.map((id) => skipped(id, 'format'))])

  let credential: Json
  let proofChecks: (credential: Json) => Promise<ProofChecks>
  let jwtProof: Check | undefined
  // The document's hash, made once: every memoised check of it is keyed by it (pure-check-cache.ts).
  let contentHash: string | undefined
  if (parsed.kind === 'jwt') {
    const outcome = await step('proof', async () => await verifyJwtProof(parsed.jwt, sources, deps.pureChecks, jwtPayload))
    if (outcome.payload === undefined) return finish(now, {}, [failed('format', `The VC-JWT cannot be decoded: ${outcome.proof.message}`), ...ALL_AFTER_FORMAT.map((id) => skipped(id, 'format'))])
    credential = credentialFromPayload(outcome.payload)
    proofChecks = async (c) => await checkJwt(outcome, c, sources)
    jwtProof = { id: 'proof', result: outcome.proof.result, message: outcome.proof.message }
    // The credential is a function of the token: the token's hash stands for it.
    contentHash = outcome.contentHash === undefined ? undefined : `jwt-${outcome.contentHash}`
  } else {
    credential = parsed.credential
    proofChecks = async (c) => await checkDataIntegrity(c, sources, deps, contentHash)
  }

  // Before any recursive walk (schema view, JSON-LD): a bounded document is a bounded bill.
  const tooBig = exceedsVerifyLimits(credential)
  if (tooBig !== undefined) return finish(now, {}, [failed('format', `The credential is too large to verify: ${tooBig}.`), ...ALL_AFTER_FORMAT.map((id) => skipped(id, 'format'))])

  const format = checkFormat(credential, sources.ownership)
  if (format.result !== 'passed') {
    // A JWS signature does not depend on the credential's shape, so its verdict is still worth reporting.
    const rest = ALL_AFTER_FORMAT.map((id) => id === 'proof' && jwtProof !== undefined ? jwtProof : skipped(id, 'format'))
    return finish(now, credential, [format, ...rest])
  }

  if (contentHash === undefined && deps.pureChecks !== undefined) contentHash = PureCheckCache.hashOf(credential)
  const schema = await step('schema', async () => await memoised(deps.pureChecks, 'schema', credential, async () => checkSchema(credential), contentHash))
  const [proof, status] = await Promise.all([step('proof', async () => await proofChecks(credential)), step('status', async () => await checkStatus(credential, now, sources, at, deps))])
  // Only signed data means anything: every check above read plain JSON, which must state exactly what was signed.
  const { proof: _, ...unsigned } = credential
  const signedData = proof.proof.result === 'passed' ? await step('signed_data', async () => await checkSignedData(unsigned, deps, contentHash)) : skipped('signed_data', 'proof')
  const validity = checkValidityPeriod(credential, at, sources.clockLeewaySeconds)
  const result = finish(now, credential, [format, schema.check, proof.proof, signedData, proof.keyBinding, validity, status.check],
    // Renewal advice is about what the holder can do now: a question about another moment ("at") gets none.
    [...schema.warnings, ...proof.warnings, ...status.warnings], status.revoked, status.current, at.getTime() === now.getTime() ? status.ownRules : undefined)
  return proof.recognisedIssuer === undefined ? result : { ...result, recognisedIssuer: proof.recognisedIssuer }
}

function finish (now: Date, credential: Json, checks: Check[], warnings: string[] = [], revoked = false, currentVersion?: CurrentVersion, ownRules?: StatusOutcome['ownRules']): VerificationResult {
  const status = deriveStatus(checks)
  const summary = isObject(credential) ? summarise(credential) : {}
  const problems = checks.filter((c) => c.result !== 'passed')
  // The reason quoted in the notice: the first failure, else the first thing we could not establish.
  const reason = (problems.find((c) => c.result === 'failed' && c.reason === undefined) ?? problems.find((c) => c.result === 'unknown') ?? problems[0])?.message ?? ''
  const suspendedOnly = !checks.some((c) => c.result === 'failed' && c.reason === undefined) && checks.some((c) => c.reason === 'suspended')
  // Renewal advice only for our own credentials: another issuer's rules are not known here.
  const renewal = ownRules === undefined ? undefined : { policy: ownRules.policy, now }
  const notice = noticeFor(status, summary, reason, suspendedOnly, currentVersion, renewal)
  return {
    verified: status === 'valid',
    status,
    expired: checks.some((c) => c.reason === 'expired'),
    revoked,
    ...(notice === undefined ? {} : { notice }),
    ...(currentVersion === undefined ? {} : { currentVersion }),
    checks,
    credential: summary,
    checkedAt: now.toISOString(),
    errors: problems.map((c) => ({ id: c.id, message: c.message })),
    warnings
  }
}
