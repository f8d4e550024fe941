-- Up Migration

-- Pauses and resumptions of automatic reverts, oldest first: a repository's newest row is its state.
CREATE TABLE revert_pauses (
  id bigserial PRIMARY KEY,
  repo text NOT NULL,
  paused boolean NOT NULL,
  reason text NOT NULL,
  by_login text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX revert_pauses_by_repo ON revert_pauses (repo, id);

-- What the revert step decided about a culprit, once per trigger ('' automatic, else the requester's
-- login): a retry carries out the same decision instead of deciding again on what it did itself.
CREATE TABLE revert_decisions (
  repo text NOT NULL,
  culprit text NOT NULL,
  trigger text NOT NULL,
  decision jsonb NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (repo, culprit, trigger)
);

-- Down Migration
DROP TABLE revert_decisions, revert_pauses;
