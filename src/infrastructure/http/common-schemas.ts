import { EARLIEST_DATE, LATEST_DATE } from '../../kernel/errors.js'

/**
 * An RFC 3339 date-time within the years the service accepts (1900 to 2200):
 * year 0000 or 9999 is a typo or a probe, and dates beyond JavaScript's range
 * would break date arithmetic far from the request.
 */
export const dateTime = { type: 'string', format: 'date-time', maxLength: 40, formatMinimum: EARLIEST_DATE, formatMaximum: LATEST_DATE } as const
