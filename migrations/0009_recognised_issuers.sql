-- The registry of recognised issuers: foreign issuers whose self-asserted keys
-- (did:key, `#z6Mk…`) the verifier accepts as theirs, and the name it shows
-- them by. Staff add and remove entries (audited); TRUSTED_ISSUERS seeds it at
-- boot with actor 'config'.
--
-- An entry matches issuer ids in one of two ways (matching.ts says the rule):
--   kind 'issuer-id': the issuer id, exactly (a DID or URL, compared as stored);
--   kind 'origin':    every issuer id under an https origin (an https URL with
--                     that origin, or a did:web of that host and port).
--
-- Removal is soft: a verify result that named an entry can still be traced to
-- it, and a removed entry is not seeded back by TRUSTED_ISSUERS at the next boot.
create table recognised_issuers (
  id          text primary key,
  -- Insertion order, for keyset paging of the list (ids are random).
  seq         bigint generated always as identity unique,
  kind        text not null check (kind in ('issuer-id', 'origin')),
  matcher     text not null check (length(matcher) <= 2000),
  name        text not null check (length(name) between 1 and 200),
  note        text check (length(note) <= 1000),
  created_at  timestamptz not null default now(),
  created_by  text not null,
  removed_at  timestamptz,
  removed_by  text,
  check ((removed_at is null) = (removed_by is null))
);

-- One current entry per matcher: a duplicate add (or two instances seeding at once) meets this.
create unique index recognised_issuers_current on recognised_issuers (kind, matcher) where removed_at is null;
