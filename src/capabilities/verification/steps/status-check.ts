import { decodeList, getBit } from '../../status-lists/bitstring.js'
import { isObject } from '../../../kernel/json.js'
import { asArray, issuerId, types, validUntil } from '../credential-fields.js'
import { bindDataIntegrityKey, impostorMessage } from './key-resolution.js'
import { LIMITS } from '../limits.js'
import { resolveForeignProofKeys, verifyProofSet } from './proof-data-integrity.js'
import { ForeignUnavailable } from '../foreign/foreign-fetcher.js'
import { readRevocationList } from '../foreign/revocation-list.js'
import { failed, passed, unknown, type Check, type CurrentVersion } from '../result.js'
import type { OwnStatusRecord, VerificationRuntime, VerificationSources } from '../sources.js'
import type { RecertificationPolicy } from '../../achievements/recertification-rules.js'
import { isoSeconds } from '../../../kernel/time.js'

/**
 * The `status` check: is the credential revoked (or suspended) right now?
 * Own lists are read from the database; foreign list credentials come from
 * `sources` and must themselves verify. Whatever cannot be established is
 * `unknown`: an unreachable list never means "not revoked".
 */

type Json = Record<string, unknown>

export interface StatusOutcome {
  check: Check
  revoked: boolean
  warnings: string[]
  current?: CurrentVersion
  /** Present only for a version of ours: its achievement's rules (null: none), which the notice words renewal advice from. */
  ownRules?: { policy: RecertificationPolicy | null }
}

const ENTRY_TYPES = new Set(['BitstringStatusListEntry', 'StatusList2021Entry'])
const LIST_TYPES = new Set(['BitstringStatusListCredential', 'StatusList2021Credential'])
const CANONICAL_INDEX = /^(0|[1-9][0-9]{0,9})$/

interface Bits { bits: Uint8Array, purpose: string, issuerId?: string }

/** A foreign status document, or why it could not be had (unreachable, refused, too slow or too big: never "not revoked"). */
async function fetchForeign (url: string, sources: VerificationSources): Promise<Json | string> {
  let document: unknown
  try {
    document = await sources.fetchStatusListCredential(url)
  } catch (error) {
    if (error instanceof ForeignUnavailable) return error.message
    throw error
  }
  return isObject(document) ? document : `the status list at ${url} could not be retrieved`
}

async function foreignList (url: string, entry: Json, now: Date, sources: VerificationSources, runtime: VerificationRuntime): Promise<Bits | string> {
  const document = await fetchForeign(url, sources)
  if (typeof document === 'string') return document
  if (!types(document).some((t) => LIST_TYPES.has(t))) return `the document at ${url} is not a status list credential`
  const { proof: _, ...unsigned } = document
  const proofs = asArray(document.proof).slice(0, LIMITS.proofs)
  let verified = false
  for (const outcome of await verifyProofSet(unsigned, proofs, runtime.dataIntegrity, await resolveForeignProofKeys(proofs, sources))) {
    if (outcome.result !== 'passed') continue
    const binding = await bindDataIntegrityKey(outcome.key, issuerId(document), sources)
    // A self-asserted key is as good for the list as for the credential: the
    // list must come from the credential's own issuer (checked by the caller),
    // and the credential's verdict already says whether that issuer is established.
    if (binding.result === 'passed' || binding.reason === 'self_asserted') {
      verified = true
      break
    }
  }
  if (!verified) return `the status list credential at ${url} does not carry a proof by its issuer that verifies`
  const listUntil = validUntil(document)
  if (listUntil !== undefined && Date.parse(listUntil) < now.getTime()) return `the status list at ${url} expired on ${listUntil}`
  const subject = asArray(document.credentialSubject)[0]
  if (!isObject(subject) || typeof subject.encodedList !== 'string') return `the status list at ${url} has no "encodedList"`
  const purpose = typeof subject.statusPurpose === 'string' ? subject.statusPurpose : String(entry.statusPurpose ?? '')
  try {
    return { bits: decodeList(subject.encodedList), purpose, issuerId: issuerId(document) }
  } catch {
    return `the "encodedList" of the status list at ${url} cannot be decoded`
  }
}

async function checkEntry (entry: unknown, credential: Json, now: Date, at: Date, sources: VerificationSources, runtime: VerificationRuntime): Promise<StatusOutcome> {
  const warnings: string[] = []
  if (!isObject(entry)) return { check: failed('status', '"credentialStatus" is not an object.'), revoked: false, warnings }
  const type = typeof entry.type === 'string' ? entry.type : asArray(entry.type).join(', ')
  if (type === '1EdTechRevocationList') return await checkRevocationList(entry, credential, sources)
  if (!ENTRY_TYPES.has(type)) return { check: unknown('status', `The status method "${type}" is not supported, so revocation cannot be checked.`), revoked: false, warnings }

  const url = entry.statusListCredential
  const purpose = entry.statusPurpose
  if (typeof url !== 'string' || typeof purpose !== 'string') {
    return { check: failed('status', `The ${type} needs "statusListCredential" and "statusPurpose".`), revoked: false, warnings }
  }
  // The spec's form is a base-10 string; "1e3", " 7" or "0x10" would be read as other indexes by other verifiers.
  // A plain JSON integer is unambiguous (1EdTech's own examples use one), so it is read with a warning.
  const rawIndex = entry.statusListIndex
  const index = typeof rawIndex === 'string' && CANONICAL_INDEX.test(rawIndex) ? Number(rawIndex) : Number.isSafeInteger(rawIndex) && (rawIndex as number) >= 0 ? rawIndex as number : undefined
  if (index === undefined) {
    return { check: failed('status', `"statusListIndex" must be a non-negative base-10 integer written as a string, like "94567"; got ${JSON.stringify(rawIndex) ?? 'nothing'}.`), revoked: false, warnings }
  }
  if (typeof rawIndex !== 'string') warnings.push(`"statusListIndex" is the number ${index}; the Bitstring Status List spec writes it as a string ("${index}").`)
  const ownership = sources.ownership(url)
  if (ownership === 'impostor') return { check: failed('status', impostorMessage('status list', url)), revoked: false, warnings }
  // One of ours: for a revocation entry, the version's record comes with the list (one statement).
  const own = ownership === 'own' ? await sources.findOwnStatusList(url, purpose === 'revocation' ? index : undefined) : undefined
  if (ownership === 'own' && own === undefined) return { check: failed('status', `The status list "${url}" does not exist on this service.`), revoked: false, warnings }
  const list = own !== undefined ? { bits: own.bits, purpose: own.purpose, issuerId: own.issuerId } : await foreignList(url, entry, now, sources, runtime)
  if (typeof list === 'string') return { check: unknown('status', `Revocation could not be checked: ${list}.`), revoked: false, warnings }
  if (list.purpose !== purpose) return { check: failed('status', `The entry's "statusPurpose" (${purpose}) does not match the list's (${list.purpose}).`), revoked: false, warnings }
  // A list speaks only for its own issuer's credentials: anyone could point at a list whose bit is clear.
  if (list.issuerId !== issuerId(credential)) {
    return { check: failed('status', `The status list at ${url} is issued by "${list.issuerId ?? 'nobody'}", not by the credential's issuer, so it cannot vouch for it.`), revoked: false, warnings }
  }
  if (index >= list.bits.length * 8) return { check: failed('status', `"statusListIndex" ${index} is outside the status list at ${url}.`), revoked: false, warnings }

  const set = getBit(list.bits, index)
  if (own !== undefined && purpose === 'revocation') {
    const record = own.record
    if (record !== undefined) {
      const judged = judgeOwnRecord(record, set, url, index, at)
      return { ...judged, warnings: [...warnings, ...judged.warnings] }
    }
  }
  if (!set) return { check: passed('status', `Not ${purpose === 'revocation' ? 'revoked' : purpose === 'suspension' ? 'suspended' : `flagged for ${purpose}`} (${url}, index ${index}).`), revoked: false, warnings }
  if (purpose === 'revocation') return { check: failed('status', `The credential has been revoked (${url}, index ${index}).`, 'revoked'), revoked: true, warnings }
  if (purpose === 'suspension') return { check: failed('status', `The credential is suspended (${url}, index ${index}).`, 'suspended'), revoked: false, warnings }
  // A "message" (or other) purpose bit carries no verdict about the credential.
  warnings.push(`The ${purpose} status bit is set (${url}, index ${index}).`)
  return { check: passed('status', `No revocation or suspension entry is set (${purpose} bit set).`), revoked: false, warnings }
}

/** The deprecated 1EdTech revocation list (foreign/revocation-list.ts): only ever another issuer's. */
async function checkRevocationList (entry: Json, credential: Json, sources: VerificationSources): Promise<StatusOutcome> {
  const warnings = ['The credential uses the deprecated 1EdTechRevocationList status method; Bitstring Status List replaces it.']
  const url = entry.id
  if (typeof url !== 'string') return { check: failed('status', 'The 1EdTechRevocationList entry needs the list\'s URL in "id".'), revoked: false, warnings }
  if (sources.ownership(url) !== 'foreign') return { check: failed('status', impostorMessage('revocation list', url)), revoked: false, warnings }
  const document = await fetchForeign(url, sources)
  if (typeof document === 'string') return { check: unknown('status', `Revocation could not be checked: ${document}.`), revoked: false, warnings }
  const reading = readRevocationList(document, url, typeof credential.id === 'string' ? credential.id : undefined, issuerId(credential))
  if (!reading.ok) return { check: unknown('status', `Revocation could not be checked: ${reading.message}.`), revoked: false, warnings }
  if (!reading.revoked) return { check: passed('status', `Not revoked (${url}).`), revoked: false, warnings }
  return { check: failed('status', `The credential has been revoked (${url})${reading.reason !== undefined ? `: ${reading.reason}` : ''}.`, 'revoked'), revoked: true, warnings }
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })

/**
 * One of our own versions, judged from the service's records, which know
 * when it was superseded, renewed or revoked (the bit alone does not): so
 * "was it good on 1 March?" has an exact answer. A bit set with no recorded
 * event is still revoked (fail closed).
 *
 * A version a recertification replaced keeps its bit clear (what it says of
 * its own period is true, and "revoked" elsewhere would tell an employer the
 * holder lost the certification); this service alone answers `superseded`
 * from the renewal on, pointing at the current version. A correction's
 * supersession speaks instead (its data was wrong); a later revocation wins.
 */
function judgeOwnRecord (record: OwnStatusRecord, bitSet: boolean, url: string, index: number, at: Date): StatusOutcome {
  const superseded = record.supersededAt !== undefined && (record.revokedAt === undefined || record.supersededAt <= record.revokedAt)
  const event = superseded
    ? { kind: 'superseded' as const, on: record.supersededAt }
    : record.revokedAt !== undefined || bitSet ? { kind: 'revoked' as const, on: record.revokedAt } : undefined
  const renewedAt = record.supersededAt === undefined ? record.renewedAt : undefined
  const current: CurrentVersion | undefined = record.version === record.currentVersion
    ? undefined
    : {
        url: record.credentialUrl,
        version: record.currentVersion,
        ...(superseded && record.supersededAt !== undefined ? { supersededAt: isoSeconds(record.supersededAt) } : {}),
        ...(renewedAt !== undefined ? { renewedAt: isoSeconds(renewedAt) } : {})
      }
  const newer = current === undefined ? [] : [`This is version ${record.version}; version ${record.currentVersion} is current: ${record.credentialUrl}.`]
  const ownRules = { policy: record.recertification }
  const withCurrent = (outcome: StatusOutcome): StatusOutcome => current === undefined ? { ...outcome, ownRules } : { ...outcome, current, ownRules }
  const eventHappened = event !== undefined && (event.on === undefined || at.getTime() >= event.on.getTime())
  if (!eventHappened && renewedAt !== undefined && at.getTime() >= renewedAt.getTime()) {
    const until = record.currentValidUntil === undefined ? '' : `, valid until ${DATE.format(record.currentValidUntil)}`
    return withCurrent({ check: failed('status', `This version was renewed on ${DATE.format(renewedAt)}: version ${record.currentVersion} is current${until}: ${record.credentialUrl}.`, 'superseded'), revoked: false, warnings: [] })
  }
  if (event === undefined) return withCurrent({ check: passed('status', `Not revoked (${url}, index ${index}).`), revoked: false, warnings: newer })
  if (!eventHappened && event.on !== undefined) {
    return withCurrent({ check: passed('status', `Not revoked or superseded on ${isoSeconds(at)}; it was ${event.kind} on ${isoSeconds(event.on)}.`), revoked: false, warnings: newer })
  }
  if (event.kind === 'superseded' && event.on !== undefined) {
    return withCurrent({ check: failed('status', `This version was superseded on ${DATE.format(event.on)} by a corrected version (version ${record.currentVersion}): ${record.credentialUrl}.`, 'superseded'), revoked: false, warnings: [] })
  }
  const when = event.on === undefined ? '' : ` on ${DATE.format(event.on)}`
  return withCurrent({ check: failed('status', `The credential was revoked${when} (${url}, index ${index}).`, 'revoked'), revoked: true, warnings: [] })
}

/**
 * Judges every credentialStatus entry. Foreign lists say only "set now", so
 * they are judged as of `now`; this service's own versions are judged as of
 * `at` from its records (revocation and supersession times are known).
 */
export async function checkStatus (credential: Json, now: Date, sources: VerificationSources, at: Date = now, runtime: VerificationRuntime = {}): Promise<StatusOutcome> {
  const entries = asArray(credential.credentialStatus)
  if (entries.length === 0) return { check: passed('status', 'The credential has no status entry, so it cannot be revoked.'), revoked: false, warnings: [] }
  if (entries.length > LIMITS.statusEntries) {
    return { check: failed('status', `The credential has ${entries.length} "credentialStatus" entries; this verifier checks at most ${LIMITS.statusEntries}.`), revoked: false, warnings: [] }
  }
  const outcomes = await Promise.all(entries.map((entry) => checkEntry(entry, credential, now, at, sources, runtime)))
  const rank = (c: Check): number => c.result === 'failed' ? (c.reason === undefined ? 0 : c.reason === 'revoked' ? 1 : c.reason === 'superseded' ? 2 : 3) : c.result === 'unknown' ? 4 : 5
  const worst = outcomes.reduce((a, b) => rank(b.check) < rank(a.check) ? b : a)
  const current = outcomes.find((o) => o.current !== undefined)?.current
  const ownRules = outcomes.find((o) => o.ownRules !== undefined)?.ownRules
  return { check: worst.check, revoked: outcomes.some((o) => o.revoked), warnings: outcomes.flatMap((o) => o.warnings), ...(current !== undefined ? { current } : {}), ...(ownRules !== undefined ? { ownRules } : {}) }
}
