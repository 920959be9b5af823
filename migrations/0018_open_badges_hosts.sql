-- Issue 26, the Service Consumer side: this service as a client of other Open
-- Badges 3.0 Hosts. A connection is made by staff for the issuer (owner
-- 'issuer') or by a holder for themselves (owner = their email); it is pending
-- until the Host's consent comes back to our callback, then connected. Every
-- secret the Host gave (client secret, access and refresh tokens) and the PKCE
-- verifier are sealed with AES-256-GCM under the service secret
-- 'ob-consumer-tokens' (iv || tag || ciphertext); the state is kept only as a
-- SHA-256 hash, which is all the callback needs to find the connection.
create table ob_host_connections (
  id                     text primary key,
  owner                  text not null check (owner = 'issuer' or owner like '%@%'),
  host_url               text not null check (length(host_url) between 8 and 2000),
  discovery_url          text not null check (length(discovery_url) between 8 and 2000),
  host_name              text check (length(host_name) <= 500),
  registration_url       text not null,
  authorization_url      text not null,
  token_url              text not null,
  refresh_url            text,
  revocation_url         text,
  api_url                text not null,
  client_id              text not null,
  client_secret_sealed   bytea,
  scopes                 text not null,
  state_hash             bytea unique,
  verifier_sealed        bytea,
  -- What the holder asked to send once the consent is back (the portal's flow).
  pending_credential_id  text,
  access_token_sealed    bytea,
  refresh_token_sealed   bytea,
  access_expires_at      timestamptz,
  created_at             timestamptz not null,
  created_by             text not null,
  connected_at           timestamptz
);
create index ob_host_connections_owner on ob_host_connections (owner, created_at desc);

-- Each push of a credential to a Host and what the Host answered.
create table ob_host_pushes (
  id             bigint generated always as identity primary key,
  connection_id  text not null references ob_host_connections (id) on delete cascade,
  credential_id  text not null,
  version        integer not null,
  host_status    integer,
  outcome        text not null check (outcome in ('created', 'replaced', 'unchanged', 'refused', 'unreachable')),
  detail         text check (length(detail) <= 2000),
  pushed_at      timestamptz not null,
  pushed_by      text not null
);
create index ob_host_pushes_connection on ob_host_pushes (connection_id, pushed_at desc);
