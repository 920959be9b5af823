import postgres, { type Sql } from 'postgres'

/** Opens a postgres.js pool. Notices are dropped: migrations emit harmless ones ("already exists"). */
export function connect (databaseUrl: string, options: { max?: number } = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Dates travel as ISO strings we format ourselves; keep timestamptz as Date objects.
    connection: { application_name: 'tessera' }
  })
}
