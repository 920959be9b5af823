/**
 * Is this error the database being unreachable or overloaded (as opposed to a
 * bug or a constraint the request broke)? Such errors are answered with 503
 * and Retry-After, and make verification indeterminate, never a 500.
 */

// postgres.js connection errors and Node socket errors.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'
])

// SQLSTATEs: 08xxx connection exceptions, 57P01-57P03 shutdown / cannot connect now,
// 53300 too many connections, 57014 query cancelled (our statement_timeout).
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300|57014)$/

export function isDatabaseUnavailable (error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
