-- Issue 7: one credential URL for life, many signed versions under it;
-- recertification rules on achievements; idempotent staff POSTs; an
-- append-only audit trail.

-- Every signed document is a version of a credential. The credential row keeps
-- what is true for its whole life (its id, badge, achievement, first award)
-- and who holds it now; each version keeps its own dates, status entry and
-- signed bytes.
create table credential_versions (
  credential_id     text not null references credentials (id),
  version           integer not null check (version >= 1),
  -- issue (version 1), correction or recertification
  kind              text not null check (kind in ('issue', 'correction', 'recertification')),
  reason            text,
  recipient_name    text not null,
  recipient_email   text not null,
  valid_from        timestamptz not null,
  valid_until       timestamptz,
  status_list_id    text not null,
  status_index      integer not null,
  document          text not null,
  jwt               text not null,
  signing_key_id    text not null references signing_keys (id),
  jwt_key_id        text not null references signing_keys (id),
  issued_at         timestamptz not null,
  issued_by         text not null,
  -- Set when a correction replaced this version: its status bit is set then,
  -- because it carries wrong data. A recertified version is not superseded
  -- this way; it stays valid for its own period.
  superseded_at     timestamptz,
  primary key (credential_id, version),
  unique (status_list_id, status_index),
  foreign key (status_list_id, status_index) references status_list_entries (status_list_id, status_index)
);

insert into credential_versions (credential_id, version, kind, recipient_name, recipient_email, valid_from, valid_until,
  status_list_id, status_index, document, jwt, signing_key_id, jwt_key_id, issued_at, issued_by)
select id, 1, 'issue', recipient_name, recipient_email, valid_from, valid_until,
  status_list_id, status_index, document, jwt, signing_key_id, jwt_key_id, issued_at, issued_by
from credentials;

alter table credentials add column current_version integer not null default 1;
alter table credentials add column current_valid_until timestamptz;
update credentials set current_valid_until = valid_until;
alter table credentials
  drop column valid_from,
  drop column valid_until,
  drop column status_list_id,
  drop column status_index,
  drop column document,
  drop column jwt,
  drop column signing_key_id,
  drop column jwt_key_id;
alter table credentials alter column current_version drop default;
-- Who staff search for; compared lower-cased (emails are stored normalised).
create index credentials_recipient_email on credentials (recipient_email, achievement_id);
create index credentials_current_valid_until on credentials (current_valid_until);

-- Recertification rules, as data: {"continuingEducation": {"minPoints", "minApprovedPoints",
-- "graceMonths"}, "exam": true}. Null: recertification by exam only.
alter table achievements add column recertification jsonb;

-- Idempotency-Key: the first response to a staff POST, replayed to retries.
create table idempotency_keys (
  actor         text not null,
  key           text not null,
  method        text not null,
  path          text not null,
  request_hash  text not null,
  -- null while the first request is still being served
  status_code   integer,
  response_headers jsonb,
  response_body text,
  created_at    timestamptz not null default now(),
  completed_at  timestamptz,
  primary key (actor, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- The audit trail: richer events, and no way to change the past.
alter table audit_events
  add column version integer,
  add column reason text,
  add column request_id text,
  add column before jsonb,
  add column after jsonb;
create index audit_events_occurred on audit_events (occurred_at, id);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only: % is not allowed', tg_op
    using errcode = 'insufficient_privilege';
end $$;
create trigger audit_events_append_only
  before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate
  before truncate on audit_events
  for each statement execute function audit_events_append_only();
