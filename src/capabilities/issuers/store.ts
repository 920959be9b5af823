import type { Db } from '../../infrastructure/db/types.js'

export interface IssuerRow {
  id: string
  name: string
  url: string | null
  email: string | null
  description: string | null
}

/** Creates the issuer or brings its descriptive fields up to date. */
export async function upsertIssuer (sql: Db, issuer: IssuerRow): Promise<void> {
  await sql`
    insert into issuers (id, name, url, email, description)
    values (${issuer.id}, ${issuer.name}, ${issuer.url}, ${issuer.email}, ${issuer.description})
    on conflict (id) do update set
      name = excluded.name, url = excluded.url, email = excluded.email,
      description = excluded.description, updated_at = now()
    where (issuers.name, issuers.url, issuers.email, issuers.description)
      is distinct from (excluded.name, excluded.url, excluded.email, excluded.description)`
}

export async function findIssuer (sql: Db, id: string): Promise<IssuerRow | undefined> {
  const [row] = await sql<IssuerRow[]>`select id, name, url, email, description from issuers where id = ${id}`
  return row
}
