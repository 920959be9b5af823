import type { LoggerOptions } from 'pino'

/**
 * How the service logs: the pino options every process uses (server, worker,
 * CLI) and the URL form request logs use. Here, not in app.ts, so that a
 * process that serves no HTTP does not load the whole app for them.
 */

/** pino options: no secrets or key material in logs. */
export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.secretKeyMultibase', '*.privateJwk', '*.d', '*.key', '*.email', '*.recipientEmail'],
      censor: '[redacted]'
    }
  }
}

/**
 * A URL as logged: query values that could be personal (an email searched
 * for) or secret (a sign-in or unsubscribe token) are replaced.
 */
export function loggableUrl (url: string): string {
  const at = url.indexOf('?')
  if (at === -1) return url
  const query = new URLSearchParams(url.slice(at + 1))
  for (const [name, value] of query) {
    const lower = name.toLowerCase()
    if (lower.includes('email') || lower.includes('token') || value.includes('@')) query.set(name, '[redacted]')
  }
  return `${url.slice(0, at)}?${query.toString()}`
}
