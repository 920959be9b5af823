-- Issue 26: the holder's portfolio behind the Open Badges 3.0 API. Badges from
-- other issuers that a holder (or a platform they connected) stored with
-- POST /ims/ob/v3p0/credentials, after the service's verifier judged them, and
-- the few profile fields a holder keeps here. This service's own credentials
-- are not copied: GET /credentials reads them where they are.

-- One row per (holder, issuer, credential id): the upsert's equality. The badge
-- is kept in the form it was posted, as text (never jsonb, which would reorder
-- keys and break nothing but the bytes a platform gave us): a JSON-LD document
-- or a compact JWS (VC-JWT).
create table portfolio_credentials (
  id                  text primary key,
  holder_email        text not null check (length(holder_email) between 3 and 320),
  issuer_id           text not null check (length(issuer_id) between 1 and 2000),
  credential_id       text not null check (length(credential_id) between 1 and 2000),
  valid_from          timestamptz not null,
  valid_until         timestamptz,
  document            text,
  compact_jws         text,
  -- What the portal shows without reading the document again (from the signed data).
  issuer_name         text check (length(issuer_name) <= 500),
  achievement_name    text check (length(achievement_name) <= 500),
  -- The verifier's verdict when stored: its status, when, and its checks (id, result, message).
  verification_status text not null,
  verification        jsonb not null,
  created_at          timestamptz not null,
  updated_at          timestamptz not null,
  check ((document is null) <> (compact_jws is null)),
  unique (holder_email, issuer_id, credential_id)
);
create index portfolio_credentials_holder on portfolio_credentials (holder_email, updated_at desc, id);

-- The profile fields a holder keeps through PUT /profile (name and email are
-- not here: they are the credentials' own, changed by staff corrections).
create table open_badges_profiles (
  holder_email text primary key check (length(holder_email) between 3 and 320),
  description  text check (length(description) <= 2000),
  url          text check (length(url) <= 2000),
  phone        text check (length(phone) <= 50),
  updated_at   timestamptz not null
);
