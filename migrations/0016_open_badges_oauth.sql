-- Issue 26: the Open Badges API's OAuth 2.0 authorization server (oidc-provider).
-- Its models (registered clients, interactions, sessions, grants, authorization
-- codes, access and refresh tokens) live here, so that every instance serves
-- the same tokens and a restart loses nothing. One table for every kind, as
-- oidc-provider's adapter contract is one interface per kind: the payload is
-- the provider's own, the columns beside it are what it looks entries up by.
create table oauth_entries (
  kind        text not null,
  id          text not null,
  payload     jsonb not null,
  -- Tokens and codes name their grant: withdrawing a connection revokes them all.
  grant_id    text,
  -- Sessions are found by uid, device codes by user code (not used: kept for the contract).
  uid         text,
  user_code   text,
  -- The holder (a grant's or token's accountId), for the portal's "connected platforms".
  account_id  text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  created_at  timestamptz not null default now(),
  primary key (kind, id)
);
create index oauth_entries_grant on oauth_entries (grant_id) where grant_id is not null;
create index oauth_entries_uid on oauth_entries (uid) where uid is not null;
create index oauth_entries_account on oauth_entries (kind, account_id) where account_id is not null;
create index oauth_entries_expiry on oauth_entries (expires_at) where expires_at is not null;
