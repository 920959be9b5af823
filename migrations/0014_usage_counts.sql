-- Issue 25: the counts that matter to the body, per credential (badge) and
-- achievement, one row per day and kind. Counted in memory by each process
-- and added here every few seconds (capabilities/usage). Nothing about the
-- visitor is kept: no address, no user agent, no cookie; only how many.
create table usage_counts (
  credential_id  text not null references credentials (id),
  -- The credential's achievement, copied so the dashboard sums an achievement without a join.
  achievement_id text not null references achievements (id),
  -- The UTC day the requests were answered on.
  day            date not null,
  kind           text not null check (kind in (
    'page_view',
    'verification_api', 'verification_page', 'verification_image',
    'linkedin_click',
    'download_json', 'download_jwt', 'download_pdf', 'download_image'
  )),
  count          bigint not null check (count > 0),
  primary key (credential_id, day, kind)
);
create index usage_counts_achievement_day on usage_counts (achievement_id, day);
create index usage_counts_day on usage_counts (day);
