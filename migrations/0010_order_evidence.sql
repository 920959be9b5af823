-- Badge orders may carry evidence: the link of a badge the requester already
-- holds (an Open Badges 2.0 assertion from the body's previous provider, or any
-- credential link). The link is kept as given; its last verification (the
-- summary staff see next to the order, with the time it was checked) is
-- stored so the queue shows it without fetching anything.
alter table orders
  add column evidence_url text check (length(evidence_url) <= 2000),
  add column evidence_verification jsonb;
