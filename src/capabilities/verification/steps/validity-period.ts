import { failed, passed, unknown, type Check } from '../result.js'
import { validFrom, validUntil } from '../credential-fields.js'

type Json = Record<string, unknown>

/**
 * How far a validFrom (and so a VC-JWT nbf, which must equal it) may lie
 * ahead of the verifier's clock and still count as begun, in seconds.
 * NTP-synchronised clocks agree within a second, but other issuers' clocks
 * are not ours, and JWT libraries commonly allow 30 to 300 s on nbf (jose's
 * clockTolerance, Microsoft.IdentityModel's 5 minute ClockSkew); the W3C and
 * Open Badges specifications say nothing. A minute covers a badly drifting
 * clock and a version answered a moment ago, and is too short to matter for
 * a period that starts on a date. Expiry gets no leeway: validUntil / exp are
 * judged exactly, so a credential is never called valid after it ended.
 */
export const DEFAULT_CLOCK_LEEWAY_SECONDS = 60

/** Upper bound of the setting: Kerberos's default maximum skew; beyond it, it is no longer clock skew. */
export const MAX_CLOCK_LEEWAY_SECONDS = 300

/**
 * Was the credential inside its validity period at `at`? Uses validFrom /
 * validUntil, or the VCDM 1.1 issuanceDate / expirationDate. A validFrom up to
 * `leewaySeconds` after `at` passes (clock skew, and the message says so);
 * validUntil is exact.
 */
export function checkValidityPeriod (credential: Json, at: Date, leewaySeconds = DEFAULT_CLOCK_LEEWAY_SECONDS): Check {
  const from = validFrom(credential)
  const until = validUntil(credential)
  const fromMs = from === undefined ? undefined : Date.parse(from)
  const untilMs = until === undefined ? undefined : Date.parse(until)
  if (fromMs !== undefined && Number.isNaN(fromMs)) return failed('validity_period', `"validFrom" (${String(from)}) is not a date-time.`)
  if (untilMs !== undefined && Number.isNaN(untilMs)) return failed('validity_period', `"validUntil" (${String(until)}) is not a date-time.`)
  if (fromMs !== undefined && untilMs !== undefined && untilMs < fromMs) return failed('validity_period', '"validUntil" must not be before "validFrom".')
  const when = at.toISOString()
  if (untilMs !== undefined && untilMs < at.getTime()) return failed('validity_period', `The credential expired at ${until ?? ''} (checked as of ${when}).`, 'expired')
  const leeway = leewaySeconds > 0 ? `, allowing ${leewaySeconds} s of clock leeway` : ''
  if (fromMs !== undefined && fromMs > at.getTime() + leewaySeconds * 1000) return failed('validity_period', `The credential is not valid until ${from ?? ''} (checked as of ${when}${leeway}).`, 'not_yet_valid')
  if (fromMs === undefined) return unknown('validity_period', 'The credential has no "validFrom", so its validity period is unknown.')
  if (fromMs > at.getTime()) return passed('validity_period', `The credential is valid from ${from ?? ''}, within the ${leewaySeconds} s clock leeway of ${when}.`)
  return passed('validity_period', `The credential was within its validity period as of ${when}.`)
}
