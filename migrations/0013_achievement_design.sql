-- Certificate and badge design per achievement (issue 25): colours, the
-- certificate's wording and the signatories, and the images (logo, badge
-- artwork, seal, two signatures). An achievement without a row here renders
-- with the service's defaults, exactly as before.

create table achievement_designs (
  achievement_id text primary key references achievements (id),
  primary_color text check (primary_color ~ '^#[0-9a-f]{6}$'),
  accent_color text check (accent_color ~ '^#[0-9a-f]{6}$'),
  -- Plain text with {placeholders} (design/wording.ts), never a template that runs.
  title_line text check (length(title_line) between 1 and 120),
  statement_before text check (length(statement_before) between 1 and 300),
  statement_after text check (length(statement_after) between 1 and 300),
  -- Up to two signatories, [{ "name": ..., "title": ... }], in print order.
  signatories jsonb not null default '[]' check (jsonb_typeof(signatories) = 'array' and jsonb_array_length(signatories) <= 2),
  updated_at timestamptz not null,
  updated_by text not null
);

-- The bytes as uploaded (checked: design/check-design-image.ts), and the PNG
-- the renderers draw (the same bytes for a PNG, the SVG rasterised once at
-- upload), so no request rasterises an upload. sha256 names the version, for
-- caches keyed by content.
create table achievement_design_images (
  achievement_id text not null references achievement_designs (achievement_id) on delete cascade,
  slot text not null check (slot in ('logo', 'artwork', 'seal', 'signature1', 'signature2')),
  media_type text not null check (media_type in ('image/png', 'image/svg+xml')),
  bytes bytea not null,
  png bytea not null,
  sha256 text not null,
  updated_at timestamptz not null,
  updated_by text not null,
  primary key (achievement_id, slot)
);
