-- Issue 9: scoped staff API keys. Only a hash of each secret is kept; the id
-- is the visible part of the key ("tsk_<id>_<secret>"), so a leaked key can be
-- recognised in a log or a scanner report and revoked.
create table api_keys (
  id           text primary key check (id ~ '^[A-Za-z0-9]{12}$' or id = 'bootstrap'),
  name         text not null check (length(name) between 1 and 100),
  -- sha256 of the secret part; null for the bootstrap key (it lives in ADMIN_API_KEY)
  secret_hash  bytea,
  scopes       text[] not null,
  created_at   timestamptz not null default now(),
  created_by   text not null,
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  revoked_by   text
);
