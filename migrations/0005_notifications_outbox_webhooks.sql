-- Notifications: the transactional outbox (events), what was emailed, opt-outs,
-- and webhooks with their deliveries and attempts. Jobs themselves live in the
-- pgboss schema (pg-boss creates and migrates it at boot).

-- One row per thing that happened to a credential, written in the transaction
-- that made it happen. dedupe_key makes scheduled events (reminders, expired)
-- once per credential version however many schedulers run.
create table events (
  id            uuid primary key,
  type          text not null,
  occurred_at   timestamptz not null,
  credential_id text not null references credentials (id),
  version       integer not null,
  data          jsonb not null,
  -- false when staff asked for no email (notify: false) or the change is not the holder's business.
  notify_holder boolean not null,
  dedupe_key    text unique
);
create index events_credential on events (credential_id, occurred_at);
create index events_occurred on events (occurred_at, id);

-- The email an event calls for: pending until sent (or skipped, with why).
create table email_notifications (
  event_id      uuid primary key references events (id),
  credential_id text not null references credentials (id),
  version       integer not null,
  kind          text not null,
  state         text not null default 'pending' check (state in ('pending', 'sent', 'skipped')),
  skip_reason   text,
  message_id    text,
  created_at    timestamptz not null default now(),
  sent_at       timestamptz
);
create index email_notifications_credential on email_notifications (credential_id, version);

-- Holders who followed the unsubscribe link in a reminder: no more reminders
-- or expiry notices for this credential (issue emails are transactional).
alter table credentials add column reminders_opted_out_at timestamptz;

-- Secrets the service makes for itself (the key of unsubscribe links), shared by every instance.
create table service_secrets (
  name       text primary key,
  secret     bytea not null,
  created_at timestamptz not null default now()
);

create table webhooks (
  id          text primary key,
  url         text not null,
  event_types text[] not null,
  -- The signing secret must be kept to sign with (it cannot be hashed); it is shown once.
  secret      text not null,
  description text,
  enabled     boolean not null default true,
  created_at  timestamptz not null,
  created_by  text not null,
  disabled_at timestamptz,
  deleted_at  timestamptz
);

create table webhook_deliveries (
  id              uuid primary key,
  webhook_id      text not null references webhooks (id),
  event_id        uuid not null references events (id),
  state           text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
  attempts        integer not null default 0,
  created_at      timestamptz not null,
  last_attempt_at timestamptz,
  delivered_at    timestamptz,
  failed_at       timestamptz,
  unique (webhook_id, event_id)
);
create index webhook_deliveries_webhook on webhook_deliveries (webhook_id, created_at desc);

create table webhook_attempts (
  id             bigserial primary key,
  delivery_id    uuid not null references webhook_deliveries (id),
  attempt        integer not null,
  started_at     timestamptz not null,
  duration_ms    integer not null,
  status_code    integer,
  response_body  text,
  error          text,
  manual         boolean not null default false
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);

-- Due reminders and expiry notices are range scans on the current period's end
-- of credentials still live (the scheduler's query; see src/notifications/scheduler.ts).
create index credentials_live_valid_until on credentials (current_valid_until) where revoked_at is null;
