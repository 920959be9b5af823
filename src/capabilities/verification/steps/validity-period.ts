import { failed, passed, unknown, type Check } from '../result.js'
import { isOpenBadge, isVcdm1, validFrom, validUntil } from '../credential-fields.js'
import { DEFAULT_CLOCK_LEEWAY_SECONDS } from '../../../kernel/config.js'

type Json = Record<string, unknown>

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
  // VCDM 2.0 makes validFrom optional (valid from whenever it was issued); Open Badges 3.0 and VCDM 1.1 require it.
  if (fromMs === undefined && !isOpenBadge(credential) && !isVcdm1(credential)) {
    return passed('validity_period', untilMs === undefined ? 'The credential states no validity period (VCDM 2.0 makes "validFrom" and "validUntil" optional).' : `The credential states no "validFrom" and was not expired as of ${when}.`)
  }
  if (fromMs === undefined) return unknown('validity_period', 'The credential has no "validFrom", so its validity period is unknown.')
  if (fromMs > at.getTime()) return passed('validity_period', `The credential is valid from ${from ?? ''}, within the ${leewaySeconds} s clock leeway of ${when}.`)
  return passed('validity_period', `The credential was within its validity period as of ${when}.`)
}
