-- Achievements can be edited and archived, and an https image given at
-- definition time is fetched once and stored in the row as a data: URI.
-- Editing changes only what later versions are signed with; signed versions
-- keep their own copy of the achievement.

-- When and by whom the definition last changed (null: never since created).
alter table achievements add column updated_at timestamptz;
alter table achievements add column updated_by text;

-- An archived achievement takes no new credentials or recertifications; its
-- badges stay as they are, verify and may be corrected.
alter table achievements add column archived_at timestamptz;
alter table achievements add column archived_by text;

-- Where the stored image was fetched from and when (null: given inline, or none).
alter table achievements add column image_fetched_from text;
alter table achievements add column image_fetched_at timestamptz;
