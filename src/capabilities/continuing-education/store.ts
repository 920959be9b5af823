import type { Db } from '../../infrastructure/db/types.js'

/** The continuing-education record, approved providers and recertification applications: their SQL. */

export interface ApprovedProviderRow {
  id: string
  achievementId: string
  providerId: string
  name: string
  addedAt: Date
  addedBy: string
}

const PROVIDER_COLUMNS = (sql: Db) => sql`id, achievement_id as "achievementId", provider_id as "providerId", name, added_at as "addedAt", added_by as "addedBy"`

export async function listApprovedProviders (sql: Db, achievementId: string): Promise<ApprovedProviderRow[]> {
  return await sql<ApprovedProviderRow[]>`
    select ${PROVIDER_COLUMNS(sql)} from approved_providers
    where achievement_id = ${achievementId} and removed_at is null order by name, provider_id`
}

/** The new row, or undefined when the provider is already on the achievement's list. */
export async function insertApprovedProvider (tx: Db, row: ApprovedProviderRow): Promise<ApprovedProviderRow | undefined> {
  const [inserted] = await tx<ApprovedProviderRow[]>`
    insert into approved_providers (id, achievement_id, provider_id, name, added_at, added_by)
    values (${row.id}, ${row.achievementId}, ${row.providerId}, ${row.name}, ${row.addedAt}, ${row.addedBy})
    on conflict (achievement_id, provider_id) where removed_at is null do nothing
    returning ${PROVIDER_COLUMNS(tx)}`
  return inserted
}

export async function removeApprovedProvider (tx: Db, achievementId: string, id: string, by: { at: Date, actor: string }): Promise<ApprovedProviderRow | undefined> {
  const [removed] = await tx<ApprovedProviderRow[]>`
    update approved_providers set removed_at = ${by.at}, removed_by = ${by.actor}
    where id = ${id} and achievement_id = ${achievementId} and removed_at is null
    returning ${PROVIDER_COLUMNS(tx)}`
  return removed
}

export type EvidenceKind = 'none' | 'upload' | 'credential'

export interface ActivityRow {
  id: string
  credentialId: string
  title: string
  provider: string
  providerId: string | null
  /** YYYY-MM-DD */
  completedOn: string
  points: number
  category: 'approved' | 'other'
  evidenceKind: EvidenceKind
  evidenceMediaType: string | null
  evidenceFilename: string | null
  evidenceSize: number | null
  evidenceCredential: unknown
  evidenceVerification: unknown
  recordedAt: Date
  recordedBy: string
  applicationId: string | null
}

export interface NewActivity extends Omit<ActivityRow, 'evidenceSize' | 'applicationId'> {
  evidenceBytes: Buffer | null
  evidenceSha256: string | null
}

const ACTIVITY_COLUMNS = (sql: Db) => sql`
  id, credential_id as "credentialId", title, provider, provider_id as "providerId",
  to_char(completed_on, 'YYYY-MM-DD') as "completedOn", points::float8 as points, category,
  evidence_kind as "evidenceKind", evidence_media_type as "evidenceMediaType", evidence_filename as "evidenceFilename",
  length(evidence_bytes) as "evidenceSize", evidence_credential as "evidenceCredential", evidence_verification as "evidenceVerification",
  recorded_at as "recordedAt", recorded_by as "recordedBy", application_id as "applicationId"`

/** The new rows; evidence already on this badge's record is refused by the unique index (the caller checks first, under the credential's lock). */
export async function insertActivities (tx: Db, rows: readonly NewActivity[]): Promise<void> {
  if (rows.length === 0) return
  await tx`insert into ce_activities ${tx(rows.map((a) => ({
    id: a.id,
    credential_id: a.credentialId,
    title: a.title,
    provider: a.provider,
    provider_id: a.providerId,
    completed_on: a.completedOn,
    points: a.points,
    category: a.category,
    evidence_kind: a.evidenceKind,
    evidence_media_type: a.evidenceMediaType,
    evidence_filename: a.evidenceFilename,
    evidence_bytes: a.evidenceBytes,
    evidence_sha256: a.evidenceSha256,
    evidence_credential: a.evidenceCredential === null ? null : tx.json(a.evidenceCredential as never),
    evidence_verification: a.evidenceVerification === null ? null : tx.json(a.evidenceVerification as never),
    recorded_at: a.recordedAt,
    recorded_by: a.recordedBy
  })) as never)}`
}

/** The activity already on the badge's record with this evidence (a CE credential or a certificate file, by its SHA-256). */
export async function findByEvidence (sql: Db, credentialId: string, sha256: string): Promise<{ id: string, title: string } | undefined> {
  const [row] = await sql<Array<{ id: string, title: string }>>`
    select id, title from ce_activities
    where credential_id = ${credentialId} and evidence_sha256 = ${sha256} and evidence_kind in ('credential', 'upload') and removed_at is null`
  return row
}

export async function listActivities (sql: Db, credentialId: string): Promise<ActivityRow[]> {
  return await sql<ActivityRow[]>`
    select ${ACTIVITY_COLUMNS(sql)} from ce_activities
    where credential_id = ${credentialId} and removed_at is null
    order by completed_on desc, recorded_at desc`
}

/** Activities by id, in the order of the ids given (the rows an import just recorded). */
export async function findActivities (sql: Db, ids: readonly string[]): Promise<ActivityRow[]> {
  if (ids.length === 0) return []
  const rows = await sql<ActivityRow[]>`select ${ACTIVITY_COLUMNS(sql)} from ce_activities where id in ${sql(ids as string[])}`
  const byId = new Map(rows.map((row) => [row.id, row]))
  return ids.flatMap((id) => byId.get(id) ?? [])
}

export async function listActivitiesOfApplication (sql: Db, applicationId: string): Promise<ActivityRow[]> {
  return await sql<ActivityRow[]>`
    select ${ACTIVITY_COLUMNS(sql)} from ce_activities
    where application_id = ${applicationId}
    order by completed_on desc, recorded_at desc`
}

export async function findActivity (sql: Db, credentialId: string, id: string): Promise<ActivityRow | undefined> {
  const [row] = await sql<ActivityRow[]>`select ${ACTIVITY_COLUMNS(sql)} from ce_activities where credential_id = ${credentialId} and id = ${id} and removed_at is null`
  return row
}

/** The uploaded certificate of an activity. */
export async function findEvidenceFile (sql: Db, credentialId: string, id: string): Promise<{ bytes: Buffer, mediaType: string, filename: string | null } | undefined> {
  const [row] = await sql<Array<{ bytes: Buffer, mediaType: string, filename: string | null }>>`
    select evidence_bytes as bytes, evidence_media_type as "mediaType", evidence_filename as filename
    from ce_activities where credential_id = ${credentialId} and id = ${id} and evidence_kind = 'upload' and removed_at is null`
  return row
}

/** Removes an activity no application froze; false when there is none such. */
export async function removeActivity (tx: Db, credentialId: string, id: string, at: Date): Promise<boolean> {
  const rows = await tx`
    update ce_activities set removed_at = ${at}
    where credential_id = ${credentialId} and id = ${id} and removed_at is null and application_id is null
    returning 1`
  return rows.length > 0
}

export async function freezeActivities (tx: Db, applicationId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await tx`update ce_activities set application_id = ${applicationId} where id in ${tx(ids as string[])} and application_id is null and removed_at is null`
}

/** A rejected application gives its activities back to the record. */
export async function unfreezeActivities (tx: Db, applicationId: string): Promise<void> {
  await tx`update ce_activities set application_id = null where application_id = ${applicationId}`
}

export type ApplicationState = 'pending' | 'approved' | 'rejected'

export interface ApplicationRow {
  id: string
  credentialId: string
  credentialVersion: number
  state: ApplicationState
  pointsTotal: number
  pointsApproved: number
  submittedAt: Date
  submittedBy: string
  decidedAt: Date | null
  decidedBy: string | null
  decisionReason: string | null
  resultVersion: number | null
  /** From the credential: who the application is for. */
  recipientName: string
  recipientEmail: string
  achievementId: string
}

const APPLICATION_COLUMNS = (sql: Db) => sql`
  a.id, a.credential_id as "credentialId", a.credential_version as "credentialVersion", a.state,
  a.points_total::float8 as "pointsTotal", a.points_approved::float8 as "pointsApproved",
  a.submitted_at as "submittedAt", a.submitted_by as "submittedBy", a.decided_at as "decidedAt", a.decided_by as "decidedBy",
  a.decision_reason as "decisionReason", a.result_version as "resultVersion",
  c.recipient_name as "recipientName", c.recipient_email as "recipientEmail", c.achievement_id as "achievementId"`

/** The new application, or undefined when the credential already has a pending one (the partial unique index). */
export async function insertApplication (tx: Db, row: Pick<ApplicationRow, 'id' | 'credentialId' | 'credentialVersion' | 'pointsTotal' | 'pointsApproved' | 'submittedAt' | 'submittedBy'>): Promise<boolean> {
  const rows = await tx`
    insert into recertification_applications (id, credential_id, credential_version, state, points_total, points_approved, submitted_at, submitted_by)
    values (${row.id}, ${row.credentialId}, ${row.credentialVersion}, 'pending', ${row.pointsTotal}, ${row.pointsApproved}, ${row.submittedAt}, ${row.submittedBy})
    on conflict (credential_id) where state = 'pending' do nothing
    returning 1`
  return rows.length > 0
}

export async function findApplication (sql: Db, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await sql<ApplicationRow[]>`
    select ${APPLICATION_COLUMNS(sql)} from recertification_applications a join credentials c on c.id = a.credential_id
    where a.id = ${id}`
  return row
}

/** Locks an application for its decision: a second approval waits, then finds it decided. */
export async function lockApplication (tx: Db, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await tx<ApplicationRow[]>`
    select ${APPLICATION_COLUMNS(tx)} from recertification_applications a join credentials c on c.id = a.credential_id
    where a.id = ${id} for update of a`
  return row
}

export async function listApplicationsOfCredential (sql: Db, credentialId: string): Promise<ApplicationRow[]> {
  return await sql<ApplicationRow[]>`
    select ${APPLICATION_COLUMNS(sql)} from recertification_applications a join credentials c on c.id = a.credential_id
    where a.credential_id = ${credentialId} order by a.submitted_at desc`
}

export interface ApplicationQuery {
  state?: ApplicationState
  achievementId?: string
  limit: number
  /** Keyset paging: the last id of the previous page (ordered by submission, then id). */
  after?: { submittedAt: Date, id: string }
}

export async function listApplications (sql: Db, q: ApplicationQuery): Promise<ApplicationRow[]> {
  return await sql<ApplicationRow[]>`
    select ${APPLICATION_COLUMNS(sql)} from recertification_applications a join credentials c on c.id = a.credential_id
    where true
      ${q.state === undefined ? sql`` : sql`and a.state = ${q.state}`}
      ${q.achievementId === undefined ? sql`` : sql`and c.achievement_id = ${q.achievementId}`}
      ${q.after === undefined ? sql`` : sql`and (a.submitted_at, a.id) > (${q.after.submittedAt}, ${q.after.id})`}
    order by a.submitted_at, a.id
    limit ${q.limit}`
}

export async function markApplicationDecided (tx: Db, id: string, decision: { state: 'approved' | 'rejected', at: Date, by: string, reason: string | null, resultVersion: number | null }): Promise<void> {
  await tx`
    update recertification_applications
    set state = ${decision.state}, decided_at = ${decision.at}, decided_by = ${decision.by}, decision_reason = ${decision.reason}, result_version = ${decision.resultVersion}
    where id = ${id} and state = 'pending'`
}
