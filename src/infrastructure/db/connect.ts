import postgres, { type Sql } from 'postgres'

export interface ConnectOptions {
  max?: number
  /** Seconds to wait for a connection before the query fails (and the route answers 503). */
  connectTimeout?: number
  /** Milliseconds any one statement may run before PostgreSQL cancels it. */
  statementTimeoutMs?: number
  /** 'transaction': the URL is a pooler in transaction mode (PgBouncer): no session state on its connections. */
  pooler?: 'none' | 'transaction'
}

/** The connection options a process's configuration asks for. */
export const connectOptionsFor = (config: { database: { pooler: 'none' | 'transaction' } }): ConnectOptions => ({ pooler: config.database.pooler })

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
    // Reconnect attempts back off to at most about a second (postgres.js: up to 20 s).
    // The retry count is shared by the pool, so in an outage the job workers' polling
    // alone drove it to the maximum: requests then waited up to 20 s for a connection
    // attempt (to answer 503), and recovery took seconds after the database returned.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1),
    onnotice: () => {},
    connection: {
      application_name: 'tessera',
      statement_timeout: options.statementTimeoutMs ?? 15_000
    }
  })
}
