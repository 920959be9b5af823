import { isObject } from '../../../kernel/json.js'
import { LIMITS } from '../limits.js'
import { noticeFor } from '../notice.js'
import { deriveStatus, failed, passed, skipped, unknown, type Check, type CheckId, type CredentialSummary, type VerificationResult } from '../result.js'
import { SourceUnavailableError, type VerificationSources } from '../sources.js'
import { checkAssertionFormat, checkAssertionPeriod, checkBadgeDocuments, verificationKind } from './assertion-fields.js'
import { readOpenBadge2 } from './detect.js'
import { documentReader, resolveNode, type Fetched } from './documents.js'
import { checkHostedAssertion, outsideHostingPolicy } from './hosted.js'
import { recipientNote } from './recipient.js'
import { checkOb2Revocation } from './revocation.js'
import { checkSignedAssertion, creatorOf } from './signed.js'

/**
 * Verifies an Open Badges 2.0 assertion, hosted or signed, into the same
 * result document as an OB 3.0 credential, with the same check ids:
 * format (an assertion), schema (its BadgeClass and Issuer profile), proof
 * (hosted where its id says, or the JWS signature), signed_data (OB 2.0 is
 * plain JSON: what was hosted or signed is what was read), key_binding (the
 * issuer's hosting policy or key, then the registry of recognised issuers),
 * validity_period (issuedOn, expires) and status (revoked, revocation list).
 * Everything is fetched through the verification's foreign fetcher; what
 * cannot be had is unknown (indeterminate), never valid.
 */

type Json = Record<string, unknown>

export interface Ob2Deps {
  now: Date
  sources: VerificationSources
  /** The deployment's budget (VERIFY_TIME_BUDGET_MS); absent: LIMITS.timeBudgetMs. */
  timeBudgetMs?: number
}

export const OLDER_FORMAT_WARNING = 'This is an Open Badges 2.0 assertion, the format before Open Badges 3.0; it was verified by the Open Badges 2.0 rules.'
const AFTER_FORMAT: CheckId[] = ['schema', 'proof', 'signed_data', 'key_binding', 'validity_period', 'status']

/** Verifies an input that readOpenBadge2 recognises (anything else fails at format). */
export async function verifyOpenBadge2 (input: unknown, deps: Ob2Deps, options: { at?: Date, timeBudgetMs?: number, fetchedFrom?: string } = {}): Promise<VerificationResult> {
  const budget = options.timeBudgetMs ?? deps.timeBudgetMs ?? LIMITS.timeBudgetMs
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<VerificationResult>((resolve) => {
    timer = setTimeout(() => { resolve(indeterminate(deps.now, `Verification did not finish within ${budget} ms, so nothing about this assertion is established.`)) }, budget)
  })
  const work = runChecks(input, deps, options.at ?? deps.now, options.fetchedFrom).catch((error: unknown) => {
    if (!(error instanceof SourceUnavailableError)) throw error
    return indeterminate(deps.now, `${error.message} Try again shortly.`)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function runChecks (input: unknown, deps: Ob2Deps, at: Date, fetchedFrom: string | undefined): Promise<VerificationResult> {
  const given = readOpenBadge2(input)
  if (given === undefined) return finish(deps.now, {}, [failed('format', 'The input is not an Open Badges 2.0 assertion.'), ...AFTER_FORMAT.map((id) => skipped(id, 'format'))])
  const { assertion } = given
  const format = checkAssertionFormat(assertion, given.kind === 'signed')
  if (format.result !== 'passed') return finish(deps.now, assertion, [format, ...AFTER_FORMAT.map((id) => skipped(id, 'format'))])

  // One fetch budget for the whole verification (FOREIGN_LIMITS), shared by every document below.
  const sources = deps.sources.forVerification?.() ?? deps.sources
  const read = documentReader(sources)
  const signed = verificationKind(assertion) === 'signed'
  const [hostedProof, badge] = await Promise.all([
    signed ? undefined : checkHostedAssertion(assertion, read, fetchedFrom),
    resolveNode(assertion.badge, 'BadgeClass', read)
  ])
  const issuerRead: Fetched | undefined = badge.ok ? await resolveNode(badge.document.issuer, 'issuer profile', read, true) : undefined
  const schema = checkBadgeDocuments(badge, issuerRead)
  const issuer = schema.result === 'passed' && issuerRead?.ok === true ? issuerRead.document : undefined
  // The issuer's copy says whether a hosted assertion was revoked since the copy given was made.
  const current = hostedProof?.hosted ?? assertion

  const [keyed, status] = await Promise.all([
    given.kind === 'signed' ? checkSignedAssertion(given.jws, creatorOf(assertion, issuer), issuer, read) : hostedChecks(hostedProof!.proof, assertion.id as string, issuer, schema),
    checkOb2Revocation(current, issuer, signed, read)
  ])
  const keyBinding = keyed.keyBinding.result === 'passed' && issuer !== undefined ? await recognition(String(issuer.id), keyed.keyBinding, sources) : { check: keyed.keyBinding }
  const signedData = keyed.proof.result === 'passed'
    ? passed('signed_data', signed ? 'The checks read the JWS payload itself (Open Badges 2.0 is plain JSON, no JSON-LD processing).' : 'The checks read the assertion as its issuer hosts it (Open Badges 2.0 is plain JSON, no JSON-LD processing).')
    : skipped('signed_data', 'proof')
  const validity = checkAssertionPeriod(current, at, sources.clockLeewaySeconds)
  const result = finish(deps.now, current, [format, schema, keyed.proof, signedData, keyBinding.check, validity, status], badge.ok ? badge.document : undefined, issuer)
  return keyBinding.recognised === undefined ? result : { ...result, recognisedIssuer: keyBinding.recognised }
}

/** A hosted assertion's proof, and whether its issuer allows it to be hosted where it is. */
function hostedChecks (proof: Check, assertionId: string, issuer: Json | undefined, schema: Check): { proof: Check, keyBinding: Check } {
  if (proof.result !== 'passed') return { proof, keyBinding: skipped('key_binding', 'proof') }
  if (issuer === undefined) return { proof, keyBinding: schema.result === 'failed' ? skipped('key_binding', 'schema') : unknown('key_binding', 'The issuer profile could not be read, so whether it hosts this assertion is not established.') }
  const outside = outsideHostingPolicy(assertionId, issuer)
  return { proof, keyBinding: outside === undefined ? passed('key_binding', `The assertion is hosted where its issuer "${String(issuer.id)}" allows.`) : failed('key_binding', outside) }
}

/** The issuer published the badge; only the registry of recognised issuers says who that issuer is. */
async function recognition (issuerId: string, bound: Check, sources: VerificationSources): Promise<{ check: Check, recognised?: NonNullable<VerificationResult['recognisedIssuer']> }> {
  const recognised = await sources.recognisedIssuer(issuerId)
  if (recognised !== undefined) return { check: passed('key_binding', `${bound.message} The issuer is recognised by this deployment as "${recognised.name}" (registry entry ${recognised.entryId}).`), recognised }
  return { check: unknown('key_binding', `${bound.message} This deployment does not recognise that issuer, so who it is is not established.`, 'self_asserted') }
}

function summarise (assertion: Json, badge: Json | undefined, issuer: Json | undefined): CredentialSummary {
  const text = (value: unknown): string | undefined => typeof value === 'string' ? value : undefined
  const issuerId = text(issuer?.id) ?? text(badge?.issuer) ?? (isObject(badge?.issuer) ? text(badge.issuer.id) : undefined)
  const issuerName = text(issuer?.name)
  const badgeId = text(assertion.badge) ?? text(badge?.id)
  const badgeName = text(badge?.name)
  return {
    ...(text(assertion.id) !== undefined ? { id: text(assertion.id) } : {}),
    ...(issuerId !== undefined || issuerName !== undefined ? { issuer: { ...(issuerId !== undefined ? { id: issuerId } : {}), ...(issuerName !== undefined ? { name: issuerName } : {}) } } : {}),
    ...(badgeId !== undefined || badgeName !== undefined ? { achievement: { ...(badgeId !== undefined ? { id: badgeId } : {}), ...(badgeName !== undefined ? { name: badgeName } : {}) } } : {}),
    ...(text(assertion.issuedOn) !== undefined ? { validFrom: text(assertion.issuedOn) } : {}),
    ...(text(assertion.expires) !== undefined ? { validUntil: text(assertion.expires) } : {})
  }
}

function finish (now: Date, assertion: Json, checks: Check[], badge?: Json, issuer?: Json): VerificationResult {
  const status = deriveStatus(checks)
  const summary = summarise(assertion, badge, issuer)
  const problems = checks.filter((c) => c.result !== 'passed')
  const reason = (problems.find((c) => c.result === 'failed' && c.reason === undefined) ?? problems.find((c) => c.result === 'unknown') ?? problems[0])?.message ?? ''
  const notice = noticeFor(status, summary, reason)
  return {
    verified: status === 'valid',
    status,
    expired: checks.some((c) => c.reason === 'expired'),
    revoked: checks.some((c) => c.reason === 'revoked'),
    ...(notice === undefined ? {} : { notice }),
    checks,
    credential: summary,
    checkedAt: now.toISOString(),
    errors: problems.map((c) => ({ id: c.id, message: c.message })),
    warnings: [OLDER_FORMAT_WARNING, ...(assertion.recipient === undefined ? [] : [recipientNote(assertion)])]
  }
}

function indeterminate (now: Date, message: string): VerificationResult {
  return finish(now, {}, [unknown('format', message), ...AFTER_FORMAT.map((id) => unknown(id, 'Not checked: the verification did not finish.'))])
}
