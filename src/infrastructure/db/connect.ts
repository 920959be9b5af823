import postgres, { type Sql } from 'postgres'

export interface ConnectOptions {
  max?: number
  /** Seconds to wait for a connection before the query fails (and the route answers 503). */
  connectTimeout?: number
  /**
   * Milliseconds any one statement may run before PostgreSQL cancels it, sent
   * as a startup parameter; not behind a pooler (see `connect`).
   */
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
 *
 * Behind a pooler in transaction mode (`pooler: 'transaction'`) a client
 * connection is lent a server connection one transaction at a time, so
 * nothing may outlive a transaction: no prepared statements (postgres.js
 * names and reuses them per connection; the next transaction may run where
 * they do not exist), and no startup parameters but application_name
 * (PgBouncer refuses others, such as statement_timeout). The statement
 * timeout then comes from the database role (`ALTER ROLE tessera SET
 * statement_timeout = '15s'`, docs/topologies.md), which every server
 * connection the pooler opens starts with: it covers every statement at no
 * cost, where a `set_config(..., true)` would cost a round trip per
 * transaction and miss the statements that run outside one. Transactions
 * that need another timeout (migrations, backups) set theirs locally.
 */
export function connect (databaseUrl: string, options: ConnectOptions = {}): Sql {
  const pooled = options.pooler === 'transaction'
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
    prepare: !pooled,
    connection: pooled
      ? { application_name: 'tessera' }
      : { application_name: 'tessera', statement_timeout: options.statementTimeoutMs ?? 15_000 }
  })
}
