import type { Readable, Writable } from 'node:stream'
import type { Sql, TransactionSql } from 'postgres'
import type { Db } from '../db/types.js'

/** A table of the service's schemas as the backup copies it: the columns it writes (generated ones are left to the database). */
export interface TableShape {
  schema: string
  name: string
  columns: string[]
}

/** A sequence and where it stood in the snapshot. */
export interface SequenceState {
  schema: string
  name: string
  lastValue: string
  isCalled: boolean
}

/** Schemas PostgreSQL owns: everything else in the database is the service's (its tables, pg-boss's). */
const SYSTEM_SCHEMA = /^(pg_catalog|information_schema|pg_toast|pg_temp_\d+|pg_toast_temp_\d+)$/

const qualified = (t: { schema: string, name: string }): string => `${t.schema}.${t.name}`

/**
 * Every ordinary table (partitions included, partitioned parents not: their
 * rows live in the partitions) outside PostgreSQL's own schemas, with the
 * columns a COPY can write back, sorted so that a table comes after every
 * table its foreign keys point at. A cycle of foreign keys between tables is
 * refused: none exists today, and loading one would need the constraints off.
 */
export async function listTables (sql: Db): Promise<TableShape[]> {
  const rows = await sql<Array<{ oid: number, schema: string, name: string, columns: string[] | null }>>`
    select c.oid::int as oid, n.nspname as schema, c.relname as name,
           (select array_agg(a.attname::text order by a.attnum) from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '') as columns
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'r' and c.relpersistence = 'p'
     order by n.nspname, c.relname`
  const tables = rows.filter((r) => !SYSTEM_SCHEMA.test(r.schema))
  const byOid = new Map(tables.map((t) => [t.oid, t]))
  const edges = await sql<Array<{ from: number, to: number }>>`
    select distinct conrelid::int as "from", confrelid::int as "to" from pg_constraint where contype = 'f' and conrelid <> confrelid`
  const needs = new Map<number, Set<number>>(tables.map((t) => [t.oid, new Set()]))
  for (const e of edges) if (byOid.has(e.from) && byOid.has(e.to)) needs.get(e.from)!.add(e.to)
  const ordered: TableShape[] = []
  const done = new Set<number>()
  const visiting = new Set<number>()
  const visit = (oid: number): void => {
    if (done.has(oid)) return
    const table = byOid.get(oid)!
    if (visiting.has(oid)) throw new Error(`The foreign keys of ${qualified(table)} form a cycle with other tables; the backup cannot order them.`)
    visiting.add(oid)
    for (const to of needs.get(oid)!) visit(to)
    visiting.delete(oid)
    done.add(oid)
    ordered.push({ schema: table.schema, name: table.name, columns: table.columns ?? [] })
  }
  for (const t of tables) visit(t.oid)
  return ordered
}

/** Every sequence outside PostgreSQL's schemas and its current state (read inside the snapshot: never below a value it holds). */
export async function readSequences (sql: Db): Promise<SequenceState[]> {
  const rows = await sql<Array<{ schema: string, name: string }>>`
    select schemaname as schema, sequencename as name from pg_sequences order by 1, 2`
  const states: SequenceState[] = []
  for (const row of rows.filter((r) => !SYSTEM_SCHEMA.test(r.schema))) {
    const [state] = await sql<Array<{ lastValue: string, isCalled: boolean }>>`
      select last_value::text as "lastValue", is_called as "isCalled" from ${sql(qualified(row))}`
    states.push({ ...row, lastValue: state!.lastValue, isCalled: state!.isCalled })
  }
  return states
}

/** The applied migrations (schema_migrations), in order; none in a database never migrated. */
export async function migrationLevel (sql: Db): Promise<string[]> {
  const [table] = await sql<Array<{ exists: boolean }>>`select to_regclass('public.schema_migrations') is not null as exists`
  if (table?.exists !== true) return []
  return (await sql<Array<{ name: string }>>`select name from public.schema_migrations order by name`).map((r) => r.name)
}

/** pg-boss's schema version, when the database has its schema. */
export async function jobQueueVersion (sql: Db): Promise<number | undefined> {
  const [table] = await sql<Array<{ exists: boolean }>>`select to_regclass('pgboss.version') is not null as exists`
  if (table?.exists !== true) return undefined
  const [row] = await sql<Array<{ version: number }>>`select version from pgboss.version`
  return row?.version
}

/**
 * Runs `work` in one read-only, repeatable-read transaction: every table it
 * copies is seen as of the same instant, whatever the service commits meanwhile.
 */
export async function inSnapshot<T> (sql: Sql, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return await sql.begin('isolation level repeatable read read only', async (tx) => {
    // A backup of a large database runs for minutes: not the pool's statement timeout.
    await tx`select set_config('statement_timeout', '0', true)`
    return await work(tx)
  }) as T
}

/**
 * The rows of one table in COPY text format. postgres.js (3.4) pauses the
 * socket when a COPY chunk fills the stream's buffer and resumes it only from
 * the stream's read(); when that chunk is the last one the stream has already
 * ended, read() is never called again, and the connection's next statement
 * waits forever. So once the stream ends, its read() is called once more.
 */
export async function copyOut (tx: TransactionSql, table: TableShape): Promise<Readable> {
  const stream = await tx`copy ${tx(qualified(table))} (${tx(table.columns)}) to stdout`.readable()
  stream.once('end', () => { stream._read(0) })
  return stream
}

/** Where the rows of one table go back, in COPY text format. */
export async function copyIn (tx: TransactionSql, table: TableShape): Promise<Writable> {
  return await tx`copy ${tx(qualified(table))} (${tx(table.columns)}) from stdin`.writable()
}

/** How many rows a table holds. */
export async function countRows (sql: Db, table: { schema: string, name: string }): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`select count(*)::int as n from ${sql(qualified(table))}`
  return row!.n
}

/** The server's version (`server_version`). */
export async function serverVersion (sql: Db): Promise<string> {
  const [row] = await sql<Array<{ version: string }>>`select current_setting('server_version') as version`
  return row!.version
}

/**
 * Empties the tables that hold rows (the migrations' and pg-boss's seed rows,
 * or a forced restore's), in one statement so foreign keys between them
 * allow it, before they are loaded. Only those: the append-only audit table
 * refuses TRUNCATE, and a fresh one has nothing to remove.
 */
export async function emptyTables (tx: TransactionSql, tables: TableShape[]): Promise<void> {
  await tx`select set_config('statement_timeout', '0', true)`
  const full: TableShape[] = []
  for (const table of tables) {
    if ((await tx`select 1 from ${tx(qualified(table))} limit 1`).length > 0) full.push(table)
  }
  if (full.length === 0) return
  // TRUNCATE wants every table that references one it empties in the same statement.
  const references = await tx<Array<{ from: string, to: string }>>`
    select f.relnamespace::regnamespace::text || '.' || f.relname as "from", t.relnamespace::regnamespace::text || '.' || t.relname as "to"
      from pg_constraint c join pg_class f on f.oid = c.conrelid join pg_class t on t.oid = c.confrelid
     where c.contype = 'f' and c.conrelid <> c.confrelid`
  const names = new Set(full.map(qualified))
  for (let grew = true; grew;) {
    grew = false
    for (const r of references) {
      const table = tables.find((t) => qualified(t) === r.from)
      if (names.has(r.to) && !names.has(r.from) && table !== undefined) { names.add(r.from); full.push(table); grew = true }
    }
  }
  await tx.unsafe(`truncate ${full.map((t) => `${quote(t.schema)}.${quote(t.name)}`).join(', ')}`)
}

/** Puts each sequence back where the snapshot found it. */
export async function restoreSequences (tx: TransactionSql, sequences: SequenceState[]): Promise<void> {
  for (const s of sequences) {
    await tx`select setval(${`${quote(s.schema)}.${quote(s.name)}`}::regclass, ${s.lastValue}::bigint, ${s.isCalled})`
  }
}

function quote (identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`
}
