-- Up Migration

-- One row per watched branch: its head and the next position on its chain.
CREATE TABLE branches (
  repo text NOT NULL,
  branch text NOT NULL,
  head text,
  next_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (repo, branch)
);

-- The branch's landed commits in landing order; a commit on two branches has a row on each.
CREATE TABLE commits (
  repo text NOT NULL,
  branch text NOT NULL,
  seq bigint NOT NULL,
  sha text COLLATE "C" NOT NULL,
  parent text NOT NULL,
  title text NOT NULL,
  author text NOT NULL,
  suites text[] NOT NULL,
  is_revert boolean NOT NULL,
  landed_at timestamptz NOT NULL,
  PRIMARY KEY (repo, branch, seq),
  UNIQUE (repo, branch, sha)
);
CREATE INDEX commits_by_sha ON commits (repo, sha);
CREATE INDEX commits_by_time ON commits (repo, landed_at);

CREATE TABLE jobs (
  repo text NOT NULL,
  id text NOT NULL,
  ord bigserial NOT NULL,
  sha text NOT NULL,
  suite text NOT NULL,
  purpose text NOT NULL,
  job jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'superseded')),
  error text,
  enqueued_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (repo, id)
);
CREATE INDEX jobs_by_sha ON jobs (repo, sha);
CREATE INDEX jobs_active ON jobs (repo, suite) WHERE state IN ('queued', 'running');

-- One result per job id (raw samples included until retention reduces them).
CREATE TABLE runs (
  repo text NOT NULL,
  job_id text NOT NULL,
  -- Arrival order: the engine reads a state's runs in the order they came.
  ord bigserial NOT NULL,
  suite text NOT NULL,
  sha text NOT NULL,
  purpose text NOT NULL,
  job jsonb NOT NULL,
  result jsonb NOT NULL,
  baseline_result jsonb,
  recorded_at timestamptz NOT NULL,
  samples_reduced boolean NOT NULL DEFAULT false,
  PRIMARY KEY (repo, job_id)
);
CREATE INDEX runs_by_suite_sha ON runs (repo, suite, sha, ord);
CREATE INDEX runs_by_time ON runs (recorded_at) WHERE NOT samples_reduced;

-- At most one verdict of a kind per suite and commit.
CREATE TABLE verdicts (
  repo text NOT NULL,
  type text NOT NULL CHECK (type IN ('regression', 'flaky')),
  suite text NOT NULL,
  sha text NOT NULL,
  decision jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (repo, type, suite, sha)
);
CREATE INDEX verdicts_by_sha ON verdicts (repo, sha);
CREATE INDEX verdicts_by_time ON verdicts (repo, at);

CREATE TABLE reverts (
  repo text NOT NULL,
  culprit text NOT NULL,
  suite text NOT NULL,
  outcome text NOT NULL,
  original_pr integer,
  revert_pr integer,
  record jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (repo, culprit)
);
CREATE INDEX reverts_by_pr ON reverts (repo, original_pr);
CREATE INDEX reverts_by_revert_pr ON reverts (repo, revert_pr);
CREATE INDEX reverts_by_time ON reverts (repo, at);

CREATE TABLE revert_days (
  repo text NOT NULL,
  day date NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (repo, day)
);

CREATE TABLE rebaselines (
  id bigserial PRIMARY KEY,
  repo text NOT NULL,
  suite text NOT NULL,
  sha text NOT NULL,
  reason text NOT NULL,
  by_login text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX rebaselines_by_suite ON rebaselines (repo, suite, id);

-- One check run per commit: the process that claims the row creates it on GitHub, the others wait for its id.
CREATE TABLE check_runs (
  repo text NOT NULL,
  sha text NOT NULL,
  check_run_id bigint,
  claimed_at timestamptz,
  PRIMARY KEY (repo, sha)
);

CREATE TABLE timeline (
  id bigserial PRIMARY KEY,
  repo text NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  text text NOT NULL,
  sha text,
  suite text
);
CREATE INDEX timeline_by_sha ON timeline (repo, sha, id);
CREATE INDEX timeline_by_time ON timeline (repo, at);

-- Comment commands Sheriff acted on, once per comment and position in it.
CREATE TABLE commands (
  repo text NOT NULL,
  comment_id bigint NOT NULL,
  position integer NOT NULL,
  pr integer NOT NULL,
  name text NOT NULL,
  requested_by text NOT NULL,
  status text NOT NULL,
  reply text,
  at timestamptz NOT NULL,
  PRIMARY KEY (repo, comment_id, position)
);
CREATE INDEX commands_by_pr ON commands (repo, pr, at);

-- What the engine folded away per suite: the history before `from_seq` is summarised in `carry`.
-- A NULL carry means "fold again from the whole chain"; `version` makes a stale fold lose the race.
CREATE TABLE engine_windows (
  repo text NOT NULL,
  branch text NOT NULL,
  suite text NOT NULL,
  from_seq bigint NOT NULL,
  carry jsonb,
  version bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (repo, branch, suite)
);

-- Down Migration
DROP TABLE engine_windows, commands, timeline, check_runs, rebaselines, revert_days, reverts, verdicts, runs, jobs, commits, branches;
