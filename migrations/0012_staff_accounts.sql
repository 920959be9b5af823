-- The staff console (issue 25): staff users, their passkeys, the one-time
-- links that enrol a passkey, WebAuthn challenges and console sessions.
-- Secrets (enrolment tokens, session ids) are kept only as SHA-256 hashes.

create table staff_users (
  id text primary key,
  email text not null check (length(email) between 3 and 320),
  name text not null check (length(name) between 1 and 200),
  role text not null check (role in ('admin', 'registrar', 'viewer')),
  -- The subject at the body's OpenID Connect provider, once signed in by it.
  oidc_subject text,
  created_at timestamptz not null,
  created_by text not null,
  disabled_at timestamptz
);
create unique index staff_users_email on staff_users (lower(email));
create unique index staff_users_oidc_subject on staff_users (oidc_subject) where oidc_subject is not null;

-- A passkey: the credential id and public key a staff user's authenticator
-- registered (WebAuthn). The counter detects a cloned authenticator.
create table staff_passkeys (
  id text primary key,
  staff_user_id text not null references staff_users (id),
  public_key bytea not null,
  counter bigint not null default 0,
  transports text[] not null default '{}',
  created_at timestamptz not null,
  last_used_at timestamptz
);
create index staff_passkeys_user on staff_passkeys (staff_user_id);

-- A link that lets one staff user register a passkey, once, before it expires.
create table staff_enrolments (
  token_hash bytea primary key,
  staff_user_id text not null references staff_users (id),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);

-- A WebAuthn challenge, used once (any instance may receive the answer).
create table staff_challenges (
  id text primary key,
  challenge text not null,
  purpose text not null check (purpose in ('registration', 'authentication')),
  staff_user_id text references staff_users (id),
  expires_at timestamptz not null,
  used_at timestamptz
);

create table staff_sessions (
  id_hash bytea primary key,
  staff_user_id text not null references staff_users (id),
  method text not null check (method in ('passkey', 'oidc')),
  created_at timestamptz not null,
  expires_at timestamptz not null,
  ended_at timestamptz
);
create index staff_sessions_user on staff_sessions (staff_user_id) where ended_at is null;

-- The body's own certificate (member) number of a credential, when staff give
-- one at issue: what staff search by and what the employer lookup asks for.
-- A record of the body's, not a claim in the signed credential.
alter table credentials add column certificate_number text check (length(certificate_number) between 1 and 64);
create index credentials_certificate_number on credentials (lower(certificate_number)) where certificate_number is not null;

-- Staff may send a badge email again (the console's "resend"): the row goes
-- back to pending and counts its resends, so each resend has its own Message-ID
-- (mail services drop a message whose Message-ID they have already seen).
alter table email_notifications add column resends integer not null default 0;
