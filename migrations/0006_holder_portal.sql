-- The holders' portal: sign-in by emailed link, server-side sessions,
-- per-badge privacy, and the staff queue of badge orders and correction
-- requests.

-- Single-use sign-in links. Only the SHA-256 of the token is kept: a copy of
-- this table signs nobody in.
create table portal_sign_in_tokens (
  token_hash bytea primary key,
  email      text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at    timestamptz
);
-- The per-address limit counts an address's recent links.
create index portal_sign_in_tokens_email on portal_sign_in_tokens (email, created_at);

-- Sessions (@fastify/session's store). The cookie holds the signed session id;
-- the row is keyed by its SHA-256, and ending a session is setting ended_at.
create table portal_sessions (
  id_hash    bytea primary key,
  email      text not null,
  data       jsonb not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  ended_at   timestamptz
);
create index portal_sessions_email on portal_sessions (email) where ended_at is null;

-- A holder may hide a credential's public page (the signed document still verifies).
alter table credentials add column hidden_by_holder_at timestamptz;

-- The staff queue: badge orders from the public form, and correction
-- requests from signed-in holders.
create table orders (
  id                 text primary key,
  type               text not null check (type in ('badge', 'correction')),
  state              text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
  name               text not null,
  email              text not null,
  -- Badge orders: what the requester gave staff to check against their records.
  certificate_number text,
  certified_on       date,
  consented_at       timestamptz,
  -- Correction requests: the credential, which field, the new value.
  credential_id      text references credentials (id),
  correction_field   text check (correction_field in ('name', 'email')),
  correction_value   text,
  note               text,
  created_at         timestamptz not null,
  decided_at         timestamptz,
  decided_by         text,
  -- Approval: what staff gave, and the credential version it produced.
  approval           jsonb,
  result_credential_id text references credentials (id),
  result_version     integer,
  rejection_reason   text,
  rejection_emailed_at timestamptz,
  check ((type = 'correction') = (credential_id is not null and correction_field is not null and correction_value is not null)),
  check ((type = 'badge') = (consented_at is not null)),
  check ((state = 'pending') = (decided_at is null)),
  check ((state = 'rejected') = (rejection_reason is not null))
);
create index orders_queue on orders (state, created_at, id);
create index orders_credential on orders (credential_id, created_at) where credential_id is not null;
