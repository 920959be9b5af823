-- Issue 27: badges into holders' wallets.
--
-- Every credential's subject carries an id (OB 3.0 VC-JWT `sub`). Until a
-- wallet proves control of a DID, it is a stable per-holder urn:uuid: one per
-- holder email, made the first time the address is issued to. A version
-- records the subject id it signed; later versions of a credential keep the
-- current version's (a correction keeps the person's id; a wallet's DID, once
-- bound, stays the subject through recertification).
create table holder_subjects (
  email       text primary key check (length(email) between 3 and 320),
  subject_id  text not null unique,
  created_at  timestamptz not null default now()
);

alter table credential_versions add column subject_id text check (length(subject_id) <= 2000);

-- A version delivered to a wallet, bound to the wallet's DID.
alter table credential_versions drop constraint credential_versions_kind_check;
alter table credential_versions add constraint credential_versions_kind_check
  check (kind in ('issue', 'correction', 'recertification', 'resign', 'wallet'));

-- One offer to put one badge in one wallet: the interaction URL names its
-- token (kept only as its SHA-256, like every bearer secret here). Single-use:
-- delivered_at is set in the transaction that signs the delivered version.
-- State lives here, so any instance answers any step of an exchange.
create table wallet_offers (
  id                 text primary key,
  token_hash         text not null unique,
  credential_id      text not null references credentials (id),
  holder_email       text not null,
  -- Where the offer was made: the portal (shown as a QR code to a signed-in
  -- holder) or the issue email (an OID4VCI transaction code travels with it).
  channel            text not null check (channel in ('portal', 'email')),
  created_at         timestamptz not null,
  expires_at         timestamptz not null,
  -- OID4VCI transaction code (email offers), as its SHA-256.
  tx_code_hash       text,
  -- VC API exchange: the DIDAuthentication request's challenge, once asked.
  vcapi_challenge    text,
  -- OID4VCI pre-authorised code flow: the code (its SHA-256, cleared when it is
  -- exchanged), the access token it was exchanged for (SHA-256) and until when.
  -- Proof nonces are stateless (HMAC'd with a service secret), so none is kept.
  pre_authorized_code_hash text unique,
  access_token_hash  text unique,
  access_token_expires_at timestamptz,
  failed_attempts    integer not null default 0,
  delivered_at       timestamptz,
  delivered_version  integer,
  delivered_protocol text check (delivered_protocol in ('vcapi', 'oid4vci')),
  subject_did        text
);
create index wallet_offers_credential on wallet_offers (credential_id, created_at desc);
create index wallet_offers_expiry on wallet_offers (expires_at);
