-- Up Migration

-- Where a watched branch is read from GitHub again (installation, clone URL, default branch): the
-- periodic reconciliation compares its head there with the ledger's and takes in what is missing.
ALTER TABLE branches ADD COLUMN source jsonb;
-- The commit whose config governs the branch: its head on the default branch; on another branch the
-- default branch's head, whose config was reviewed on its way there. NULL: the head.
ALTER TABLE branches ADD COLUMN config_sha text;

-- Down Migration

ALTER TABLE branches DROP COLUMN config_sha;
ALTER TABLE branches DROP COLUMN source;
