/**
 * What a date without a time means in an issue request. A certifying body
 * writes "valid from 4 December 2026 until 3 December 2031" and means both
 * days in full: a date alone is the start of that day for validFrom and
 * awardedDate, and the last second of that day for validUntil. Days are UTC
 * days, the zone every page, PDF and email prints dates in, so the printed
 * date is the date that was sent. A date-time is taken as written.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

/** The issue-request date fields, date-only values made exact instants (RFC 3339, UTC). */
export function withExactDates<T extends { validFrom?: string, validUntil?: string, awardedDate?: string }> (body: T): T {
  const exact = (value: string | undefined, time: string): string | undefined =>
    value !== undefined && DATE_ONLY.test(value) ? `${value}T${time}Z` : value
  const dates = {
    validFrom: exact(body.validFrom, '00:00:00'),
    validUntil: exact(body.validUntil, '23:59:59'),
    awardedDate: exact(body.awardedDate, '00:00:00')
  }
  return { ...body, ...Object.fromEntries(Object.entries(dates).filter(([, value]) => value !== undefined)) }
}
