import { failed, passed, unknown, type Check } from './result.js'
import { validFrom, validUntil } from './credential-fields.js'

type Json = Record<string, unknown>

/**
 * Was the credential inside its validity period at `at`? Uses validFrom /
 * validUntil, or the VCDM 1.1 issuanceDate / expirationDate.
 */
export function checkValidityPeriod (credential: Json, at: Date): Check {
  const from = validFrom(credential)
  const until = validUntil(credential)
  const fromMs = from === undefined ? undefined : Date.parse(from)
  const untilMs = until === undefined ? undefined : Date.parse(until)
  if (fromMs !== undefined && Number.isNaN(fromMs)) return failed('validity_period', `"validFrom" (${String(from)}) is not a date-time.`)
  if (untilMs !== undefined && Number.isNaN(untilMs)) return failed('validity_period', `"validUntil" (${String(until)}) is not a date-time.`)
  if (fromMs !== undefined && untilMs !== undefined && untilMs < fromMs) return failed('validity_period', '"validUntil" must not be before "validFrom".')
  const when = at.toISOString()
  if (untilMs !== undefined && untilMs < at.getTime()) return failed('validity_period', `The credential expired at ${until ?? ''} (checked as of ${when}).`, 'expired')
  if (fromMs !== undefined && fromMs > at.getTime()) return failed('validity_period', `The credential is not valid until ${from ?? ''} (checked as of ${when}).`, 'not_yet_valid')
  if (fromMs === undefined) return unknown('validity_period', 'The credential has no "validFrom", so its validity period is unknown.')
  return passed('validity_period', `The credential was within its validity period as of ${when}.`)
}
