-- Up Migration

-- The dashboard reads a page of commits' runs by sha, and a suite's newest runs for its benchmark charts.
CREATE INDEX runs_by_sha ON runs (repo, sha);
CREATE INDEX runs_by_suite_ord ON runs (repo, suite, ord);

-- Down Migration
DROP INDEX runs_by_suite_ord, runs_by_sha;
