-- Recertification by the holder (issue 24): the continuing-education record
-- of each credential, the providers whose CE credentials count as approved for
-- an achievement, and the holder's applications that staff review.

-- Per achievement: the CE providers whose points count as "approved" (for the
-- CMA (AAMA): AAMA-approved CEUs). provider_id is the issuer id or DID that
-- the provider's verifiable CE credentials carry. Removal is a mark, so the
-- audit trail and old activities still name the entry.
create table approved_providers (
  id text primary key,
  achievement_id text not null references achievements (id),
  provider_id text not null check (length(provider_id) between 1 and 2000),
  name text not null check (length(name) between 1 and 200),
  added_at timestamptz not null,
  added_by text not null,
  removed_at timestamptz,
  removed_by text
);
create unique index approved_providers_current on approved_providers (achievement_id, provider_id) where removed_at is null;

-- One application per credential may be pending at a time (the partial
-- unique index): two concurrent applications make one.
create table recertification_applications (
  id text primary key,
  credential_id text not null references credentials (id),
  -- The version whose period the application renews.
  credential_version integer not null,
  state text not null check (state in ('pending', 'approved', 'rejected')),
  points_total numeric(8, 2) not null,
  points_approved numeric(8, 2) not null,
  submitted_at timestamptz not null,
  submitted_by text not null,
  decided_at timestamptz,
  decided_by text,
  decision_reason text check (length(decision_reason) <= 2000),
  -- The version the approval made.
  result_version integer
);
create unique index recertification_applications_one_pending on recertification_applications (credential_id) where state = 'pending';
create index recertification_applications_by_state on recertification_applications (state, submitted_at);

-- The activities. Evidence is an uploaded certificate (kept here, served only
-- to the holder and staff) or a verifiable CE credential (kept as given, with
-- the verifier's answer when it was recorded). application_id freezes an
-- activity: counted by a pending or approved application, it cannot be removed.
create table ce_activities (
  id text primary key,
  credential_id text not null references credentials (id),
  title text not null check (length(title) between 1 and 300),
  provider text not null check (length(provider) between 1 and 300),
  provider_id text check (length(provider_id) <= 2000),
  completed_on date not null,
  points numeric(8, 2) not null check (points > 0),
  category text not null check (category in ('approved', 'other')),
  evidence_kind text not null check (evidence_kind in ('none', 'upload', 'credential')),
  evidence_media_type text,
  evidence_filename text,
  evidence_bytes bytea,
  evidence_sha256 text,
  evidence_credential jsonb,
  evidence_verification jsonb,
  recorded_at timestamptz not null,
  recorded_by text not null,
  application_id text references recertification_applications (id),
  removed_at timestamptz,
  check ((evidence_kind = 'upload') = (evidence_bytes is not null)),
  check ((evidence_kind = 'credential') = (evidence_credential is not null))
);
create index ce_activities_of_credential on ce_activities (credential_id, completed_on) where removed_at is null;
-- A CE credential, or a certificate file, counts once per badge, whoever
-- records it (and a form sent twice records one activity).
create unique index ce_activities_evidence_once on ce_activities (credential_id, evidence_sha256) where removed_at is null and evidence_kind in ('credential', 'upload');
