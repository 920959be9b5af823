-- Account instructions ("My badges": how to sign in, what the account offers)
-- go to each holder address once, as a section of the first badge email
-- (issued, renewed or corrected) that the address is sent. The primary key is
-- the rule: one row per address, claimed by the event whose email carries
-- them, so retries, a second badge or two workers never send them twice.
--
-- No backfill: an address that held badges before this release is told once,
-- with the next badge email it is sent.
create table account_instructions (
  email      text primary key,
  -- The event whose email carries the instructions (a retry of it carries them again, with the same Message-ID).
  event_id   uuid not null references events (id),
  claimed_at timestamptz not null,
  -- Set when that email went; a claim whose email was skipped is given up, so a later email carries them.
  sent_at    timestamptz
);
create index account_instructions_event on account_instructions (event_id);
