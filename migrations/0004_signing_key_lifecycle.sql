-- Issue 9: signing keys are withdrawn in the database (status 'compromised',
-- compromised_at = "since"), and only signatures this service stored are
-- still trusted after that: these indexes find them.
create index credential_versions_proof_value on credential_versions (((document::jsonb) -> 'proof' -> 0 ->> 'proofValue'));
create index credential_versions_jws_signature on credential_versions ((split_part(jwt, '.', 3)));
create index credential_versions_keys on credential_versions (signing_key_id, jwt_key_id);

-- A re-signed version (after a key compromise): same data, a new signature.
alter table credential_versions drop constraint credential_versions_kind_check;
alter table credential_versions add constraint credential_versions_kind_check check (kind in ('issue', 'correction', 'recertification', 'resign'));

-- Bumped on every change of a key's state, so running instances notice (keys/key-ring-refresh.ts).
alter table signing_keys add column updated_at timestamptz not null default now();
