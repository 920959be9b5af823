/** A clock: domain functions take one so tests can fix time without patching globals. */
export type Clock = () => Date

export const systemClock: Clock = () => new Date()

/** RFC 3339 UTC with whole seconds, the form every date in a signed document takes. */
export function isoSeconds (date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Truncates to whole seconds (VC-JWT nbf/exp are seconds, so documents carry no milliseconds). */
export function toWholeSeconds (date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000)
}

/**
 * Adds calendar months in UTC, clamping to the last day of the target month
 * (31 January + 1 month = 28 or 29 February), keeping the time of day.
 */
export function addMonths (date: Date, months: number): Date {
  const result = new Date(date.getTime())
  const day = result.getUTCDate()
  result.setUTCDate(1)
  result.setUTCMonth(result.getUTCMonth() + months)
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate()
  result.setUTCDate(Math.min(day, lastDay))
  return result
}

/** Whole seconds since the epoch for an RFC 3339 date (JWT NumericDate), or undefined when it is not a date. */
export function epochSeconds (iso: string): number | undefined {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}
