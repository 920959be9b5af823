-- Tessera initial schema: issuers, their keys, achievements, badges, credentials,
-- status lists. Public URLs are never stored: they are derived from PUBLIC_BASE_URL
-- and these short ids, so a change of domain does not need a data migration
-- (already-signed credentials keep the URLs they were signed with, in their document).

create table issuers (
  id          text primary key check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text not null,
  url         text,
  email       text,
  description text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- Public halves of the signing keys. Private keys stay in key files; rows are
-- never deleted, so credentials signed by a retired key keep verifying.
create table signing_keys (
  id                   text primary key,
  issuer_id            text not null references issuers (id),
  algorithm            text not null check (algorithm in ('Ed25519', 'RS256', 'ES256')),
  public_key_multibase text unique,
  public_jwk           jsonb,
  status               text not null default 'active' check (status in ('active', 'retired', 'compromised')),
  created_at           timestamptz not null default now(),
  retired_at           timestamptz,
  compromised_at       timestamptz,
  check ((algorithm = 'Ed25519') = (public_key_multibase is not null)),
  check ((algorithm <> 'Ed25519') = (public_jwk is not null))
);
create index signing_keys_issuer on signing_keys (issuer_id, algorithm, status);

create table achievements (
  id               text primary key,
  issuer_id        text not null references issuers (id),
  name             text not null,
  description      text not null,
  criteria         jsonb not null,
  image            jsonb,
  achievement_type text,
  validity_months  integer check (validity_months > 0),
  created_at       timestamptz not null default now(),
  created_by       text not null
);
create index achievements_issuer on achievements (issuer_id, created_at);

-- A badge is one person holding one achievement over time; each credential is
-- one signed version of it (first issue, corrections, recertifications).
create table badges (
  id              text primary key,
  issuer_id       text not null references issuers (id),
  achievement_id  text not null references achievements (id),
  recipient_name  text not null,
  recipient_email text not null,
  created_at      timestamptz not null default now()
);

create table status_lists (
  id         text primary key,
  issuer_id  text not null references issuers (id),
  purpose    text not null check (purpose in ('revocation', 'suspension')),
  size       integer not null check (size >= 131072 and size % 8 = 0),
  -- The list is closed to new allocations once this many indexes are taken, so
  -- that picking a random free index stays cheap and herd privacy stays large.
  capacity   integer not null,
  allocated  integer not null default 0,
  state      text not null default 'open' check (state in ('open', 'full')),
  bits       bytea not null,
  version    integer not null default 1,
  -- The signed BitstringStatusListCredential for `version`, exactly as served.
  credential text not null,
  signed_at  timestamptz not null,
  valid_until timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (allocated <= size)
);
-- At most one open list per issuer and purpose: concurrent creators race on this.
create unique index status_lists_one_open on status_lists (issuer_id, purpose) where state = 'open';

-- Every index ever handed out, used or not: an index is never given twice.
create table status_list_entries (
  status_list_id text not null references status_lists (id),
  status_index   integer not null check (status_index >= 0),
  allocated_at   timestamptz not null default now(),
  primary key (status_list_id, status_index)
);

create table credentials (
  id                text primary key,
  badge_id          text not null references badges (id),
  issuer_id         text not null references issuers (id),
  achievement_id    text not null references achievements (id),
  recipient_name    text not null,
  recipient_email   text not null,
  valid_from        timestamptz not null,
  valid_until       timestamptz,
  awarded_date      timestamptz,
  status_list_id    text not null,
  status_index      integer not null,
  -- The signed documents, byte for byte as issued (json/text, never jsonb,
  -- which would reorder keys).
  document          text not null,
  jwt               text not null,
  signing_key_id    text not null references signing_keys (id),
  jwt_key_id        text not null references signing_keys (id),
  issued_at         timestamptz not null default now(),
  issued_by         text not null,
  revoked_at        timestamptz,
  revoked_by        text,
  revocation_reason text,
  unique (status_list_id, status_index),
  foreign key (status_list_id, status_index) references status_list_entries (status_list_id, status_index),
  check ((revoked_at is null) = (revocation_reason is null))
);
create index credentials_badge on credentials (badge_id, issued_at);
create index credentials_achievement on credentials (achievement_id, issued_at);

-- Append-only record of every staff change, written in the same transaction as the change.
create table audit_events (
  id          bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor       text not null,
  action      text not null,
  subject_type text not null,
  subject_id  text not null,
  details     jsonb not null default '{}'
);
create index audit_events_subject on audit_events (subject_type, subject_id, occurred_at);
