-- Issue 25: "send test event" in the staff console. A webhook's test event
-- (type webhook.test) is about no credential, yet it goes through the same
-- deliveries, job and attempts as every other event, so staff see it in the
-- webhook's deliveries. Every other event still names its credential and version.
alter table events alter column credential_id drop not null;
alter table events alter column version drop not null;
alter table events add constraint events_credential_unless_test
  check (type = 'webhook.test' or (credential_id is not null and version is not null));
