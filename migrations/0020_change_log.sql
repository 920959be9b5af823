-- Issue 28: the change feed behind a pooler in transaction mode.
--
-- Every announced change (a credential's new current version, a re-signed
-- status list, the signing keys, the registry) is written here in the
-- announcing transaction, besides its NOTIFY. Instances that cannot LISTEN
-- (PgBouncer in transaction mode and no DATABASE_DIRECT_URL) poll this table
-- instead (src/infrastructure/caching/polled-change-feed.ts). `xid` is the
-- writing transaction's id: a poller reads the rows of transactions not yet
-- finished at its previous poll, so a row whose transaction commits late
-- (after one with a higher seq) is still seen. Rows live a few minutes; every
-- change feed prunes the old ones.
create table change_log (
  seq      bigint generated always as identity primary key,
  xid      xid8 not null default pg_current_xact_id(),
  channel  text not null,
  key      text not null,
  at       timestamptz not null default now()
);

create index change_log_xid on change_log (xid);
create index change_log_at on change_log (at);
