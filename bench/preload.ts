/**
 * Fills the database with `count` more credentials, in SQL, for the
 * "figures with 100,000 credentials" comparison: signing 100,000 for real
 * would take longer than the bench itself. Each is a copy of a real issued
 * credential (its badge, credential row and signed version) under its own id,
 * holder and status entry, on full status lists copied from the real one, so
 * every table and index the hot paths read holds `count` more rows. The copies
 * are never requested; the figures measure the real credential among them.
 */
import type { Sql } from 'postgres'

const LIST_ENTRIES = 65_536

/** Columns of `table` in order, with the given ones replaced by SQL expressions over `g` (the copy's number). */
async function copyExpression (sql: Sql, table: string, replaced: Record<string, string>): Promise<{ columns: string, values: string }> {
  const rows = await sql<Array<{ name: string }>>`
    select column_name as name from information_schema.columns
    where table_schema = 'public' and table_name = ${table} and is_generated = 'NEVER' and identity_generation is null
    order by ordinal_position`
  return {
    columns: rows.map((r) => `"${r.name}"`).join(', '),
    values: rows.map((r) => replaced[r.name] ?? `t."${r.name}"`).join(', ')
  }
}

export async function preloadCredentials (sql: Sql, templateId: string, count: number): Promise<void> {
  const [template] = await sql<Array<{ badgeId: string, listId: string }>>`
    select c.badge_id as "badgeId", v.status_list_id as "listId"
    from credentials c join credential_versions v on v.credential_id = c.id and v.version = c.current_version
    where c.id = ${templateId}`
  if (template === undefined) throw new Error(`No credential ${templateId} to copy.`)
  const lists = Math.ceil(count / LIST_ENTRIES)
  const listOf = `'bench-list-' || ((g - 1) / ${LIST_ENTRIES} + 1)`
  const indexOf = `((g - 1) % ${LIST_ENTRIES})::int`
  const steps: Array<[string, Record<string, string>, string]> = [
    ['status_lists', { id: "'bench-list-' || g", state: "'full'", allocated: `${LIST_ENTRIES}` }, `id = '${template.listId}'`],
    ['badges', { id: "'bench-badge-' || g", recipient_email: "'bench' || g || '@example.org'", recipient_name: "'Bench Holder ' || g" }, `id = '${template.badgeId}'`],
    ['credentials', { id: "'bench-' || g", badge_id: "'bench-badge-' || g", recipient_email: "'bench' || g || '@example.org'", recipient_name: "'Bench Holder ' || g" }, `id = '${templateId}'`],
    ['credential_versions', { credential_id: "'bench-' || g", recipient_email: "'bench' || g || '@example.org'", recipient_name: "'Bench Holder ' || g", status_list_id: listOf, status_index: indexOf }, `credential_id = '${templateId}'`]
  ]
  for (const [table, replaced, where] of steps) {
    const { columns, values } = await copyExpression(sql, table, replaced)
    const rows = table === 'status_lists' ? lists : count
    if (table === 'credential_versions') {
      await sql.unsafe(`insert into status_list_entries (status_list_id, status_index) select ${listOf}, ${indexOf} from generate_series(1, ${count}) as g`)
    }
    await sql.unsafe(`insert into ${table} (${columns}) select ${values} from ${table} t cross join generate_series(1, ${rows}) as g where t.${where}`)
  }
  await sql.unsafe('analyze')
}
