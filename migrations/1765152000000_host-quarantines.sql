-- Up Migration

-- Hosts whose failures followed the machine, not the code: while quarantined (to_at NULL) their
-- results are discounted and they run only canaries. Per repository, as the evidence is.
CREATE TABLE host_quarantines (
  repo text NOT NULL,
  host text NOT NULL,
  from_at timestamptz NOT NULL,
  to_at timestamptz,
  summary text NOT NULL,
  evidence jsonb NOT NULL,
  PRIMARY KEY (repo, host, from_at)
);
-- At most one open quarantine of a host: two app processes deciding at once record it once.
CREATE UNIQUE INDEX host_quarantines_open ON host_quarantines (repo, host) WHERE to_at IS NULL;
CREATE INDEX host_quarantines_by_time ON host_quarantines (repo, from_at);

-- Host health reads the repository's newest runs across suites.
CREATE INDEX runs_by_repo_ord ON runs (repo, ord);

-- Down Migration
DROP INDEX runs_by_repo_ord;
DROP TABLE host_quarantines;
