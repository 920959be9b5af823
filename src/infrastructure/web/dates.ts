const LONG = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })

/** "31 March 2026" (UTC), the one way dates are written for people; undefined for a missing or unreadable date. */
export function longDate (value: string | Date | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime()
  return Number.isNaN(ms) ? undefined : LONG.format(ms)
}
