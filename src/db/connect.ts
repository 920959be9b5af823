import postgres, { type Sql } from 'postgres'

export interface ConnectOptions {
  max?: number
  /** Seconds to wait for a connection before the query fails (and the route answers 503). */
  connectTimeout?: number
  /** Milliseconds any one statement may run before PostgreSQL cancels it. */
  statementTimeoutMs?: number
}

/**
 * Opens a postgres.js pool. Timeouts are short so that an outage is a quick
 * 503 rather than requests piling up; the pool reconnects by itself when the
 * database returns. Notices are dropped: migrations emit harmless ones ("already exists").
 */
export function connect (databaseUrl: string, options: ConnectOptions = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 3,
    idle_timeout: 60,
    onnotice: () => {},
    connection: {
      application_name: 'tessera',
      statement_timeout: options.statementTimeoutMs ?? 15_000
    }
  })
}
