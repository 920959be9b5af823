-- Issue 28: the verifier establishes that a document is one this service
-- signed by its content hash, without checking the proof again (a Data
-- Integrity check is a JSON-LD canonicalisation, milliseconds of CPU; an
-- index lookup is not). Every version's document is indexed by the SHA-256
-- (hex) of its exact text, which is JSON.stringify of what was signed: the
-- hash a verifier computes of the document it was given
-- (verification/pure-check-cache.ts, hashOf). An expression index is filled
-- as each version is stored (at issue time) and covers every version stored
-- before it, with nothing to backfill or keep in step.
--
-- convert_to is only STABLE (it depends on the database's encoding), and an
-- index expression must be IMMUTABLE: a database's encoding is fixed when it
-- is created, so for one database this function is immutable in fact.
--
-- Its cost is declared high (a SHA-256 of a document of a few kilobytes, read
-- from TOAST): at the default cost the planner may prefer a sequential scan
-- that hashes every stored document, as it did with 100,000 versions just
-- loaded (stale statistics, LIMIT 1): seconds per lookup instead of an index probe.
create function tessera_sha256_hex(content text) returns text
  language sql immutable strict parallel safe cost 10000
  as $$ select encode(sha256(convert_to(content, 'UTF8')), 'hex') $$;

create index credential_versions_document_sha256 on credential_versions (tessera_sha256_hex(document));
