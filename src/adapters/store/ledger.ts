import type pg from "pg";
import type { RegressionDecision, FlakyDecision, LandedCommit, Rebaseline, RunRecord } from "../../model/engine.js";
import {
  branchSourceSchema,
  type BranchSource,
  type CommandRecord,
  type HostQuarantineRecord,
  type JobRecord,
  type JobState,
  type RevertRecord,
  type StoredCommit,
  type TimelineEntry,
  type VerdictRecord,
  type WatchedBranch,
} from "../../model/ledger.js";
import type { SuiteResult } from "../../model/result.js";
import { CANARY_ATTEMPT_BASE, type JobRequest, jobId } from "../../model/jobs.js";
import { transaction, type Database } from "./database.js";

type Queryable = Pick<pg.Pool, "query">;

interface CommitRow {
  seq: string;
  sha: string;
  parent: string;
  title: string;
  author: string;
  suites: string[];
  is_revert: boolean;
  branch: string;
  landed_at: Date;
}

interface JobRow {
  id: string;
  job: JobRequest;
  state: JobState;
  error: string | null;
  enqueued_at: Date;
  updated_at: Date;
}

interface RunRow {
  job: JobRequest;
  result: SuiteResult;
  baseline_result: SuiteResult | null;
}

const COMMIT_COLUMNS = "seq, sha, parent, title, author, suites, is_revert, branch, landed_at";
const JOB_COLUMNS = "id, job, state, error, enqueued_at, updated_at";
const RUN_COLUMNS = "job, result, baseline_result";

function toCommit(row: CommitRow): StoredCommit {
  return {
    sha: row.sha,
    parent: row.parent,
    title: row.title,
    author: row.author,
    suites: row.suites,
    isRevert: row.is_revert,
    branch: row.branch,
    landedAt: row.landed_at.toISOString(),
  };
}

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    job: row.job,
    state: row.state,
    enqueuedAt: row.enqueued_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.error !== null ? { error: row.error } : {}),
  };
}

function toRun(row: RunRow): RunRecord {
  return { job: row.job, result: row.result, ...(row.baseline_result ? { baselineResult: row.baseline_result } : {}) };
}

function toVerdict(row: { decision: VerdictRecord["decision"]; at: Date }): VerdictRecord {
  return { decision: row.decision, at: row.at.toISOString() };
}

function toTimeline(row: { at: Date; kind: string; text: string; sha: string | null; suite: string | null }): TimelineEntry {
  return {
    at: row.at.toISOString(),
    kind: row.kind,
    text: row.text,
    ...(row.sha !== null ? { sha: row.sha } : {}),
    ...(row.suite !== null ? { suite: row.suite } : {}),
  };
}

/** A run with its key, as retention reads and rewrites it. */
export interface StoredRun {
  repo: string;
  jobId: string;
  run: RunRecord;
}

/** What the engine folded away for one suite: history before `fromSeq` lives only in `carry`. */
export interface EngineWindowRecord<Carry> {
  fromSeq: number;
  /** Null once something reached a commit before the window: the next analysis reads the whole chain. */
  carry: Carry | null;
  version: number;
}

/** A pause or resumption of automatic reverts on a repository, as a person gave it. */
export interface RevertPauseRecord {
  paused: boolean;
  reason: string;
  by: string;
  at: string;
}

/**
 * Sheriff's history in PostgreSQL: every landed commit, job, result, verdict, revert, rebaseline,
 * timeline note and command, per repository. Writes are idempotent (unique keys, ON CONFLICT DO
 * NOTHING where a record must be written once), records that change together share a transaction,
 * and every read is by an indexed key (repository + suite + commits, sha, or time), so one result's
 * work does not grow with the history.
 */
export class Ledger {
  constructor(
    readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The time the ledger stamps records with: a flow comparing a recorded time with the present reads this clock. */
  time(): Date {
    return this.now();
  }

  private get q(): Queryable {
    return this.db.pool;
  }

  /** Appends commits not seen on the branch before, in order; returns how many were new. */
  async recordCommits(repo: string, branch: string, commits: LandedCommit[]): Promise<number> {
    if (commits.length === 0) return 0;
    const at = this.now();
    return transaction(this.db, async (client) => {
      const next = await lockBranch(client, repo, branch);
      const known = await client.query<{ sha: string }>("SELECT sha FROM commits WHERE repo = $1 AND branch = $2 AND sha = ANY($3)", [
        repo,
        branch,
        commits.map((c) => c.sha),
      ]);
      const seen = new Set(known.rows.map((r) => r.sha));
      const fresh = commits.filter((c) => !seen.has(c.sha) && (seen.add(c.sha), true));
      if (fresh.length === 0) return 0;
      await client.query(
        `INSERT INTO commits (repo, branch, seq, sha, parent, title, author, suites, is_revert, landed_at)
         SELECT $1, $2, $3 + i - 1, sha, parent, title, author, ARRAY(SELECT jsonb_array_elements_text(suites)), is_revert, $4
         FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::boolean[]) WITH ORDINALITY
           AS c(sha, parent, title, author, suites, is_revert, i)`,
        [
          repo,
          branch,
          next,
          at,
          fresh.map((c) => c.sha),
          fresh.map((c) => c.parent),
          fresh.map((c) => c.title),
          fresh.map((c) => c.author),
          fresh.map((c) => JSON.stringify(c.suites)),
          fresh.map((c) => c.isRevert),
        ],
      );
      await client.query("UPDATE branches SET next_seq = $3 WHERE repo = $1 AND branch = $2", [repo, branch, next + fresh.length]);
      return fresh.length;
    });
  }

  /** After a force push: drops chain entries after `keepThrough` (or all, when it is not on the chain); returns them oldest first. */
  async truncateChain(repo: string, branch: string, keepThrough: string | null): Promise<string[]> {
    return transaction(this.db, async (client) => {
      await lockBranch(client, repo, branch);
      const kept = keepThrough
        ? await client.query<{ seq: string }>("SELECT seq FROM commits WHERE repo = $1 AND branch = $2 AND sha = $3", [
            repo,
            branch,
            keepThrough,
          ])
        : { rows: [] };
      const after = kept.rows[0] ? Number(kept.rows[0].seq) : -1;
      const dropped = await client.query<{ sha: string; seq: string }>(
        "DELETE FROM commits WHERE repo = $1 AND branch = $2 AND seq > $3 RETURNING sha, seq",
        [repo, branch, after],
      );
      // A window that started on a dropped commit must be rebuilt from the full chain.
      if (dropped.rows.length > 0)
        await client.query("DELETE FROM engine_windows WHERE repo = $1 AND branch = $2 AND from_seq > $3", [repo, branch, after]);
      return dropped.rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.sha);
    });
  }

  /** The whole chain, oldest first: for tools and migrations, not for per-event work. */
  async chain(repo: string, branch: string): Promise<StoredCommit[]> {
    return this.chainFrom(repo, branch, 0);
  }

  /** The chain from position `fromSeq` on, oldest first. */
  async chainFrom(repo: string, branch: string, fromSeq: number): Promise<StoredCommit[]> {
    const rows = await this.q.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS} FROM commits WHERE repo = $1 AND branch = $2 AND seq >= $3 ORDER BY seq`,
      [repo, branch, fromSeq],
    );
    return rows.rows.map(toCommit);
  }

  /** The chain position of a commit on a branch. */
  async seqOf(repo: string, branch: string, sha: string): Promise<number | null> {
    const row = await this.q.query<{ seq: string }>("SELECT seq FROM commits WHERE repo = $1 AND branch = $2 AND sha = $3", [
      repo,
      branch,
      sha,
    ]);
    return row.rows[0] ? Number(row.rows[0].seq) : null;
  }

  /** Of `shas`, the one latest in the branch's chain; null when none of them is in it. */
  async latestInChain(repo: string, branch: string, shas: readonly string[]): Promise<string | null> {
    const row = await this.q.query<{ sha: string }>(
      "SELECT sha FROM commits WHERE repo = $1 AND branch = $2 AND sha = ANY($3::text[]) ORDER BY seq DESC LIMIT 1",
      [repo, branch, shas],
    );
    return row.rows[0]?.sha ?? null;
  }

  /** Whether the branch has any recorded commit (a first push runs every suite). */
  async hasChain(repo: string, branch: string): Promise<boolean> {
    const row = await this.q.query("SELECT 1 FROM commits WHERE repo = $1 AND branch = $2 LIMIT 1", [repo, branch]);
    return row.rows.length > 0;
  }

  /** A landed commit by sha (its newest landing, when it landed on several branches). */
  async commit(repo: string, sha: string): Promise<StoredCommit | null> {
    const row = await this.q.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS} FROM commits WHERE repo = $1 AND sha = $2 ORDER BY landed_at DESC LIMIT 1`,
      [repo, sha],
    );
    return row.rows[0] ? toCommit(row.rows[0]) : null;
  }

  /** Landed commits of the branch whose sha starts with `prefix` (at most `limit`). */
  async commitsByPrefix(repo: string, branch: string, prefix: string, limit = 2): Promise<StoredCommit[]> {
    const rows = await this.q.query<CommitRow>(
      `SELECT ${COMMIT_COLUMNS} FROM commits WHERE repo = $1 AND branch = $2 AND sha >= $3 AND sha < $3 || 'g' ORDER BY sha LIMIT $4`,
      [repo, branch, prefix.toLowerCase(), limit],
    );
    return rows.rows.map(toCommit);
  }

  /** Records a job as queued unless it is already known; returns false for a duplicate. */
  async recordJobQueued(repo: string, job: JobRequest): Promise<boolean> {
    const at = this.now();
    return transaction(this.db, async (client) => {
      const inserted = await client.query(
        `INSERT INTO jobs (repo, id, sha, suite, purpose, job, state, enqueued_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7) ON CONFLICT (repo, id) DO NOTHING`,
        [repo, jobId(job), job.sha, job.suite, job.purpose, job, at],
      );
      if (inserted.rowCount !== 1) return false;
      await reopenWindowsBefore(client, repo, job.suite, job.sha);
      return true;
    });
  }

  async setJobState(repo: string, job: JobRequest, state: JobState, error?: string): Promise<void> {
    await setJobState(this.q, repo, job, state, this.now(), error);
  }

  /** Every job of the repository: for tools and migrations, not for per-event work. */
  async jobs(repo: string): Promise<JobRecord[]> {
    const rows = await this.q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE repo = $1 ORDER BY ord`, [repo]);
    return rows.rows.map(toJob);
  }

  async jobsAt(repo: string, sha: string): Promise<JobRecord[]> {
    const rows = await this.q.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE repo = $1 AND sha = $2 ORDER BY ord`, [repo, sha]);
    return rows.rows.map(toJob);
  }

  /** Jobs of a suite still queued or running. */
  async activeJobs(repo: string, suite: string): Promise<JobRecord[]> {
    const rows = await this.q.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE repo = $1 AND suite = $2 AND state IN ('queued', 'running') ORDER BY ord`,
      [repo, suite],
    );
    return rows.rows.map(toJob);
  }

  /** Stores a result once per job id and marks its job done, together; a retried delivery of the same result is ignored. */
  async recordRun(repo: string, run: RunRecord): Promise<boolean> {
    const at = this.now();
    return transaction(this.db, async (client) => {
      const inserted = await client.query(
        `INSERT INTO runs (repo, job_id, suite, sha, purpose, job, result, baseline_result, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (repo, job_id) DO NOTHING`,
        [repo, jobId(run.job), run.job.suite, run.job.sha, run.job.purpose, run.job, run.result, run.baselineResult ?? null, at],
      );
      await setJobState(client, repo, run.job, "done", at);
      if (inserted.rowCount === 1) await reopenWindowsBefore(client, repo, run.job.suite, run.job.sha);
      return inserted.rowCount === 1;
    });
  }

  /** Every run of a suite: for tools and migrations, not for per-event work. */
  async runs(repo: string, suite: string): Promise<RunRecord[]> {
    const rows = await this.q.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE repo = $1 AND suite = $2 ORDER BY ord`, [repo, suite]);
    return rows.rows.map(toRun);
  }

  /** The suite's runs at these commits (any cherry-picked state of them included), in arrival order. */
  async runsOf(repo: string, suite: string, shas: string[]): Promise<RunRecord[]> {
    if (shas.length === 0) return [];
    const rows = await this.q.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE repo = $1 AND suite = $2 AND sha = ANY($3) ORDER BY ord`,
      [repo, suite, shas],
    );
    return rows.rows.map(toRun);
  }

  async runsAt(repo: string, sha: string, suites: string[]): Promise<RunRecord[]> {
    if (suites.length === 0) return [];
    const rows = await this.q.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE repo = $1 AND sha = $2 AND suite = ANY($3) ORDER BY ord`,
      [repo, sha, suites],
    );
    return rows.rows.map(toRun);
  }

  /** The newest run of a suite at a commit. */
  async latestRun(repo: string, suite: string, sha: string): Promise<RunRecord | undefined> {
    const rows = await this.q.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE repo = $1 AND suite = $2 AND sha = $3 ORDER BY ord DESC LIMIT 1`,
      [repo, suite, sha],
    );
    return rows.rows[0] ? toRun(rows.rows[0]) : undefined;
  }

  /**
   * Records a verdict once, with its timeline note in the same transaction; returns false when
   * the same suite and commit already had one of its kind.
   */
  async recordVerdict(repo: string, decision: RegressionDecision | FlakyDecision, note?: Omit<TimelineEntry, "at">): Promise<boolean> {
    const sha = decision.type === "regression" ? decision.culprit : decision.sha;
    const at = this.now();
    return transaction(this.db, async (client) => {
      const inserted = await client.query(
        "INSERT INTO verdicts (repo, type, suite, sha, decision, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [repo, decision.type, decision.suite, sha, decision, at],
      );
      if (inserted.rowCount !== 1) return false;
      if (note) await insertNote(client, repo, { ...note, at: at.toISOString() });
      if (decision.type === "regression") await reopenWindowsBefore(client, repo, decision.suite, sha);
      return true;
    });
  }

  /** Every verdict, oldest first: for tools and migrations, not for per-event work. */
  async verdicts(repo: string): Promise<VerdictRecord[]> {
    const rows = await this.q.query("SELECT decision, at FROM verdicts WHERE repo = $1 ORDER BY at, suite, sha", [repo]);
    return rows.rows.map(toVerdict);
  }

  /** Verdicts about one commit (a regression it caused, or tests that flaked there). */
  async verdictsAt(repo: string, sha: string): Promise<VerdictRecord[]> {
    const rows = await this.q.query("SELECT decision, at FROM verdicts WHERE repo = $1 AND sha = $2 ORDER BY at, suite", [repo, sha]);
    return rows.rows.map(toVerdict);
  }

  async regression(repo: string, suite: string, culprit: string): Promise<RegressionDecision | null> {
    const rows = await this.q.query<{ decision: RegressionDecision }>(
      "SELECT decision FROM verdicts WHERE repo = $1 AND type = 'regression' AND suite = $2 AND sha = $3",
      [repo, suite, culprit],
    );
    return rows.rows[0]?.decision ?? null;
  }

  async declaredCulprits(repo: string, suite: string): Promise<string[]> {
    const rows = await this.q.query<{ sha: string }>(
      "SELECT sha FROM verdicts WHERE repo = $1 AND type = 'regression' AND suite = $2 ORDER BY at, sha",
      [repo, suite],
    );
    return rows.rows.map((r) => r.sha);
  }

  /** Records (or updates) what was done about a culprit, with its timeline note in the same transaction. */
  async recordRevert(repo: string, record: RevertRecord, note?: Omit<TimelineEntry, "at">): Promise<void> {
    await transaction(this.db, async (client) => {
      await upsertRevert(client, repo, record);
      if (note) await insertNote(client, repo, { ...note, at: this.now().toISOString() });
    });
  }

  /** Culprits reverted since `since` and not yet seen relanded, with their titles: what a landed commit may land again. */
  async relandCandidates(repo: string, since: Date, limit = 200): Promise<{ culprit: string; title: string }[]> {
    const rows = await this.q.query<{ culprit: string; title: string }>(
      `SELECT r.culprit, c.title FROM reverts r JOIN LATERAL (SELECT title FROM commits WHERE repo = r.repo AND sha = r.culprit LIMIT 1) c ON true
       WHERE r.repo = $1 AND r.at >= $2 AND NOT (r.record ? 'relandedAs') ORDER BY r.at DESC LIMIT $3`,
      [repo, since, limit],
    );
    return rows.rows;
  }

  /** Records that `sha` landed the culprit's change again, once, with its timeline note. */
  async recordReland(repo: string, culprit: string, sha: string, note: Omit<TimelineEntry, "at">): Promise<boolean> {
    return transaction(this.db, async (client) => {
      const updated = await client.query(
        `UPDATE reverts SET record = record || jsonb_build_object('relandedAs', $3::text)
         WHERE repo = $1 AND culprit = $2 AND NOT (record ? 'relandedAs')`,
        [repo, culprit, sha],
      );
      if ((updated.rowCount ?? 0) === 0) return false;
      await insertNote(client, repo, { ...note, at: this.now().toISOString() });
      return true;
    });
  }

  /** Every revert record, oldest first: for tools and migrations, not for per-event work. */
  async reverts(repo: string): Promise<RevertRecord[]> {
    const rows = await this.q.query<{ record: RevertRecord }>("SELECT record FROM reverts WHERE repo = $1 ORDER BY at, culprit", [repo]);
    return rows.rows.map((r) => r.record);
  }

  async revertOf(repo: string, culprit: string): Promise<RevertRecord | null> {
    const rows = await this.q.query<{ record: RevertRecord }>("SELECT record FROM reverts WHERE repo = $1 AND culprit = $2", [
      repo,
      culprit,
    ]);
    return rows.rows[0]?.record ?? null;
  }

  /** Reverts of any of these commits. */
  async revertsOf(repo: string, culprits: string[]): Promise<RevertRecord[]> {
    const rows = await this.q.query<{ record: RevertRecord }>(
      "SELECT record FROM reverts WHERE repo = $1 AND culprit = ANY($2) ORDER BY at",
      [repo, culprits],
    );
    return rows.rows.map((r) => r.record);
  }

  /** Reverts whose original PR or revert PR is one of `prs`. */
  async revertsByPr(repo: string, prs: number[]): Promise<RevertRecord[]> {
    if (prs.length === 0) return [];
    const rows = await this.q.query<{ record: RevertRecord }>(
      "SELECT record FROM reverts WHERE repo = $1 AND (original_pr = ANY($2) OR revert_pr = ANY($2)) ORDER BY at, culprit",
      [repo, prs],
    );
    return rows.rows.map((r) => r.record);
  }

  async revertsToday(repo: string): Promise<number> {
    const rows = await this.q.query<{ count: number }>("SELECT count FROM revert_days WHERE repo = $1 AND day = $2", [repo, this.today()]);
    return rows.rows[0]?.count ?? 0;
  }

  async countRevertToday(repo: string): Promise<void> {
    await this.q.query(
      "INSERT INTO revert_days (repo, day, count) VALUES ($1, $2, 1) ON CONFLICT (repo, day) DO UPDATE SET count = revert_days.count + 1",
      [repo, this.today()],
    );
  }

  /**
   * What the revert step decided about a culprit for one trigger ('' automatic, else the requester),
   * made once: `decide` gets the day's count of automatic revert PRs and its answer is stored, counted
   * against the day when `countsAgainstCap` says so, in one transaction that holds the day's count, so
   * two culprits cannot both take the last place. A later call returns the stored decision.
   */
  async decideRevertOnce<Decision>(
    repo: string,
    culprit: string,
    trigger: string,
    decide: (revertsToday: number) => Decision,
    countsAgainstCap: (decision: Decision) => boolean,
  ): Promise<Decision> {
    const day = this.today();
    return transaction(this.db, async (client) => {
      await client.query("INSERT INTO revert_days (repo, day, count) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", [repo, day]);
      const counted = await client.query<{ count: number }>("SELECT count FROM revert_days WHERE repo = $1 AND day = $2 FOR UPDATE", [
        repo,
        day,
      ]);
      const stored = await client.query<{ decision: Decision }>(
        "SELECT decision FROM revert_decisions WHERE repo = $1 AND culprit = $2 AND trigger = $3",
        [repo, culprit, trigger],
      );
      if (stored.rows[0]) return stored.rows[0].decision;
      const decision = decide(counted.rows[0]!.count);
      await client.query("INSERT INTO revert_decisions (repo, culprit, trigger, decision, at) VALUES ($1, $2, $3, $4, $5)", [
        repo,
        culprit,
        trigger,
        JSON.stringify(decision),
        this.now(),
      ]);
      if (countsAgainstCap(decision)) {
        await client.query("UPDATE revert_days SET count = count + 1 WHERE repo = $1 AND day = $2", [repo, day]);
      }
      return decision;
    });
  }

  /** The stored decision of `decideRevertOnce`, if one was made. */
  async revertDecision<Decision>(repo: string, culprit: string, trigger: string): Promise<Decision | null> {
    const rows = await this.q.query<{ decision: Decision }>(
      "SELECT decision FROM revert_decisions WHERE repo = $1 AND culprit = $2 AND trigger = $3",
      [repo, culprit, trigger],
    );
    return rows.rows[0]?.decision ?? null;
  }

  /** Pauses or resumes automatic reverts on the repository, with who did it and why. */
  async recordRevertPause(repo: string, record: RevertPauseRecord): Promise<void> {
    await this.q.query("INSERT INTO revert_pauses (repo, paused, reason, by_login, at) VALUES ($1, $2, $3, $4, $5)", [
      repo,
      record.paused,
      record.reason,
      record.by,
      record.at,
    ]);
  }

  /** The newest pause or resumption of automatic reverts on the repository; null when there never was one. */
  async revertPause(repo: string): Promise<RevertPauseRecord | null> {
    const rows = await this.q.query<{ paused: boolean; reason: string; by_login: string; at: Date }>(
      "SELECT paused, reason, by_login, at FROM revert_pauses WHERE repo = $1 ORDER BY id DESC LIMIT 1",
      [repo],
    );
    const row = rows.rows[0];
    return row ? { paused: row.paused, reason: row.reason, by: row.by_login, at: row.at.toISOString() } : null;
  }

  /** Takes `host` out of the repository's fleet from now, returning when; null when it already was (one open quarantine a host). */
  async quarantineHost(repo: string, host: string, why: { summary: string; evidence: string[] }): Promise<string | null> {
    const rows = await this.q.query<{ from_at: Date }>(
      `INSERT INTO host_quarantines (repo, host, from_at, summary, evidence) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (repo, host) WHERE to_at IS NULL DO NOTHING RETURNING from_at`,
      [repo, host, this.now(), why.summary, JSON.stringify(why.evidence)],
    );
    return rows.rows[0]?.from_at.toISOString() ?? null;
  }

  /** Ends `host`'s open quarantine; false when it had none. */
  async readmitHost(repo: string, host: string): Promise<boolean> {
    const rows = await this.q.query("UPDATE host_quarantines SET to_at = $3 WHERE repo = $1 AND host = $2 AND to_at IS NULL", [
      repo,
      host,
      this.now(),
    ]);
    return (rows.rowCount ?? 0) > 0;
  }

  /** Quarantines open now or ended since `since`, oldest first, at most `limit` (the newest of them). */
  async hostQuarantines(repo: string, since: Date, limit = 200): Promise<HostQuarantineRecord[]> {
    return readHostQuarantines(this.q, repo, since, limit);
  }

  /** Canary jobs of the repository queued or running. */
  async activeCanaries(repo: string): Promise<number> {
    const rows = await this.q.query<{ n: string }>(
      "SELECT count(*) AS n FROM jobs WHERE repo = $1 AND state IN ('queued', 'running') AND (job->>'attempt')::int >= $2",
      [repo, CANARY_ATTEMPT_BASE],
    );
    return Number(rows.rows[0]!.n);
  }

  /** Whether `host` is quarantined for the repository now. */
  async isQuarantined(repo: string, host: string): Promise<boolean> {
    const rows = await this.q.query("SELECT 1 FROM host_quarantines WHERE repo = $1 AND host = $2 AND to_at IS NULL", [repo, host]);
    return rows.rows.length > 0;
  }

  /** The repository's newest `limit` runs across suites, oldest first: what host health reads. */
  async recentRuns(repo: string, limit: number): Promise<RunRecord[]> {
    const rows = await this.q.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM (SELECT ${RUN_COLUMNS}, ord FROM runs WHERE repo = $1 ORDER BY ord DESC LIMIT $2) r ORDER BY ord`,
      [repo, limit],
    );
    return rows.rows.map(toRun);
  }

  private today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  async recordRebaseline(repo: string, rebaseline: Rebaseline): Promise<void> {
    await transaction(this.db, async (client) => {
      await client.query("INSERT INTO rebaselines (repo, suite, sha, reason, by_login, at) VALUES ($1, $2, $3, $4, $5, $6)", [
        repo,
        rebaseline.suite,
        rebaseline.sha,
        rebaseline.reason,
        rebaseline.by,
        rebaseline.at,
      ]);
      await reopenWindowsBefore(client, repo, rebaseline.suite, rebaseline.sha);
    });
  }

  async rebaselines(repo: string, suite: string): Promise<Rebaseline[]> {
    const rows = await this.q.query<{ suite: string; sha: string; reason: string; by_login: string; at: Date }>(
      "SELECT suite, sha, reason, by_login, at FROM rebaselines WHERE repo = $1 AND suite = $2 ORDER BY id",
      [repo, suite],
    );
    return rows.rows.map((r) => ({ suite: r.suite, sha: r.sha, reason: r.reason, by: r.by_login, at: r.at.toISOString() }));
  }

  /**
   * The branch head Sheriff last planned from, and the commit whose config governs the branch's
   * analyses (the head itself on the default branch). With `source`, also where the branch is read
   * from GitHub again, for the periodic reconciliation.
   */
  async setHead(repo: string, branch: string, sha: string, also: { source?: BranchSource; configSha?: string } = {}): Promise<void> {
    await this.q.query(
      `INSERT INTO branches (repo, branch, head, source, config_sha) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (repo, branch) DO UPDATE SET head = EXCLUDED.head,
         source = COALESCE(EXCLUDED.source, branches.source), config_sha = EXCLUDED.config_sha`,
      [repo, branch, sha, also.source ? JSON.stringify(also.source) : null, also.configSha ?? null],
    );
  }

  /** The commit whose config governs the branch's analyses: its head unless another commit was named. */
  async configSha(repo: string, branch: string): Promise<string | null> {
    const rows = await this.q.query<{ sha: string | null }>(
      "SELECT COALESCE(config_sha, head) AS sha FROM branches WHERE repo = $1 AND branch = $2",
      [repo, branch],
    );
    return rows.rows[0]?.sha ?? null;
  }

  /** A page of the branches with a known source, in (repo, branch) order after `after`. */
  async watchedBranches(after: { repo: string; branch: string } | null, limit: number): Promise<WatchedBranch[]> {
    const rows = await this.q.query<{ repo: string; branch: string; head: string; source: unknown }>(
      `SELECT repo, branch, head, source FROM branches
       WHERE source IS NOT NULL AND head IS NOT NULL AND (repo, branch) > ($1, $2)
       ORDER BY repo, branch LIMIT $3`,
      [after?.repo ?? "", after?.branch ?? "", limit],
    );
    return rows.rows.flatMap((r) => {
      const source = branchSourceSchema.safeParse(r.source);
      return source.success ? [{ repo: r.repo, branch: r.branch, head: r.head, source: source.data }] : [];
    });
  }

  async head(repo: string, branch: string): Promise<string | null> {
    const rows = await this.q.query<{ head: string | null }>("SELECT head FROM branches WHERE repo = $1 AND branch = $2", [repo, branch]);
    return rows.rows[0]?.head ?? null;
  }

  async checkRunId(repo: string, sha: string): Promise<number | null> {
    const rows = await this.q.query<{ check_run_id: string | null }>("SELECT check_run_id FROM check_runs WHERE repo = $1 AND sha = $2", [
      repo,
      sha,
    ]);
    const id = rows.rows[0]?.check_run_id;
    return id ? Number(id) : null;
  }

  /**
   * Claims the right to create a commit's check run: true for exactly one caller, or for a later one
   * when the claim is older than `staleMs` without an id (its holder died between claim and create).
   */
  async claimCheckRun(repo: string, sha: string, staleMs: number): Promise<boolean> {
    const now = this.now();
    const claimed = await this.q.query(
      `INSERT INTO check_runs (repo, sha, claimed_at) VALUES ($1, $2, $3)
       ON CONFLICT (repo, sha) DO UPDATE SET claimed_at = EXCLUDED.claimed_at
       WHERE check_runs.check_run_id IS NULL AND check_runs.claimed_at < $4`,
      [repo, sha, now, new Date(now.getTime() - staleMs)],
    );
    return claimed.rowCount === 1;
  }

  /** Gives back a creation claim that did not lead to a check run. */
  async releaseCheckRunClaim(repo: string, sha: string): Promise<void> {
    await this.q.query("DELETE FROM check_runs WHERE repo = $1 AND sha = $2 AND check_run_id IS NULL", [repo, sha]);
  }

  async setCheckRunId(repo: string, sha: string, id: number): Promise<void> {
    await this.q.query(
      "INSERT INTO check_runs (repo, sha, check_run_id) VALUES ($1, $2, $3) ON CONFLICT (repo, sha) DO UPDATE SET check_run_id = EXCLUDED.check_run_id",
      [repo, sha, id],
    );
  }

  async note(repo: string, entry: Omit<TimelineEntry, "at">): Promise<void> {
    await insertNote(this.q, repo, { ...entry, at: this.now().toISOString() });
  }

  /**
   * Notes several entries in one statement, in order. An entry about a commit that the timeline
   * already has (same commit, kind, suite and text) is skipped, so a retried step notes it once.
   */
  async noteAll(repo: string, entries: Omit<TimelineEntry, "at">[]): Promise<void> {
    if (entries.length === 0) return;
    await this.q.query(
      `INSERT INTO timeline (repo, at, kind, text, sha, suite)
       SELECT $1, $2, e.kind, e.text, e.sha, e.suite
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(kind, text, sha, suite, i)
       WHERE NOT EXISTS (SELECT 1 FROM timeline t WHERE t.repo = $1 AND t.sha = e.sha AND t.kind = e.kind AND t.text = e.text
         AND t.suite IS NOT DISTINCT FROM e.suite)
       ORDER BY e.i`,
      [
        repo,
        this.now().toISOString(),
        entries.map((e) => e.kind),
        entries.map((e) => e.text),
        entries.map((e) => e.sha ?? null),
        entries.map((e) => e.suite ?? null),
      ],
    );
  }

  /** The whole timeline, oldest first: for tools and migrations, not for per-event work. */
  async timeline(repo: string): Promise<TimelineEntry[]> {
    const rows = await this.q.query("SELECT at, kind, text, sha, suite FROM timeline WHERE repo = $1 ORDER BY id", [repo]);
    return rows.rows.map(toTimeline);
  }

  /** Timeline entries about these commits, oldest first. */
  async timelineAt(repo: string, shas: string[]): Promise<TimelineEntry[]> {
    const rows = await this.q.query("SELECT at, kind, text, sha, suite FROM timeline WHERE repo = $1 AND sha = ANY($2) ORDER BY id", [
      repo,
      shas,
    ]);
    return rows.rows.map(toTimeline);
  }

  /** Records a comment command once per comment and position; returns false for a redelivered comment. */
  async recordCommand(repo: string, command: CommandRecord): Promise<boolean> {
    const inserted = await this.q.query(
      `INSERT INTO commands (repo, comment_id, position, pr, name, requested_by, status, reply, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [
        repo,
        command.commentId,
        command.position,
        command.pr,
        command.name,
        command.requestedBy,
        command.status,
        command.reply ?? null,
        command.at,
      ],
    );
    return inserted.rowCount === 1;
  }

  async commands(repo: string, pr: number): Promise<CommandRecord[]> {
    const rows = await this.q.query<{
      comment_id: string;
      position: number;
      pr: number;
      name: string;
      requested_by: string;
      status: string;
      reply: string | null;
      at: Date;
    }>(
      "SELECT comment_id, position, pr, name, requested_by, status, reply, at FROM commands WHERE repo = $1 AND pr = $2 ORDER BY at, position",
      [repo, pr],
    );
    return rows.rows.map((r) => ({
      commentId: Number(r.comment_id),
      position: r.position,
      pr: r.pr,
      name: r.name,
      requestedBy: r.requested_by,
      status: r.status,
      ...(r.reply !== null ? { reply: r.reply } : {}),
      at: r.at.toISOString(),
    }));
  }

  /**
   * Runs recorded before `cutoff` that still hold raw samples and lie before their suite's engine
   * window on every branch that window exists for: the engine never reads them again, so
   * reducing them cannot change a decision. Oldest first, at most `limit`.
   */
  async settledRunsWithRawSamples(cutoff: Date, limit: number): Promise<StoredRun[]> {
    const rows = await this.q.query<RunRow & { repo: string; job_id: string }>(
      `SELECT r.repo, r.job_id, ${RUN_COLUMNS} FROM runs r
       WHERE NOT r.samples_reduced AND r.recorded_at < $1
         AND EXISTS (
           SELECT 1 FROM engine_windows w JOIN commits c ON c.repo = w.repo AND c.branch = w.branch AND c.sha = r.sha
           WHERE w.repo = r.repo AND w.suite = r.suite AND c.seq < w.from_seq)
         AND NOT EXISTS (
           SELECT 1 FROM engine_windows w JOIN commits c ON c.repo = w.repo AND c.branch = w.branch AND c.sha = r.sha
           WHERE w.repo = r.repo AND w.suite = r.suite AND c.seq >= w.from_seq)
       ORDER BY r.recorded_at LIMIT $2`,
      [cutoff, limit],
    );
    return rows.rows.map((r) => ({ repo: r.repo, jobId: r.job_id, run: toRun(r) }));
  }

  /** Replaces runs' results with their reduced form, marking them so they are not read for reduction again. */
  async storeReducedRuns(runs: StoredRun[]): Promise<void> {
    if (runs.length === 0) return;
    await this.q.query(
      `UPDATE runs r SET result = u.result, baseline_result = u.baseline_result, samples_reduced = true
       FROM jsonb_to_recordset($1::jsonb) AS u(repo text, job_id text, result jsonb, baseline_result jsonb)
       WHERE r.repo = u.repo AND r.job_id = u.job_id`,
      [
        JSON.stringify(
          runs.map((r) => ({ repo: r.repo, job_id: r.jobId, result: r.run.result, baseline_result: r.run.baselineResult ?? null })),
        ),
      ],
    );
  }

  /** Bytes the history takes in the database (tables and their indexes), and how many landed commits it holds. */
  async footprint(): Promise<{ bytes: number; commits: number }> {
    const rows = await this.q.query<{ bytes: string; commits: string }>(
      `SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = current_schema() AND c.relkind = 'r') AS bytes,
              (SELECT count(*) FROM commits) AS commits`,
    );
    return { bytes: Number(rows.rows[0]!.bytes), commits: Number(rows.rows[0]!.commits) };
  }

  /** Where a suite's window starts and what was folded before it; null when the next analysis must read the whole chain. */
  async engineWindow<Carry>(repo: string, branch: string, suite: string): Promise<EngineWindowRecord<Carry> | null> {
    const rows = await this.q.query<{ from_seq: string; carry: Carry | null; version: string }>(
      "SELECT from_seq, carry, version FROM engine_windows WHERE repo = $1 AND branch = $2 AND suite = $3",
      [repo, branch, suite],
    );
    const row = rows.rows[0];
    return row ? { fromSeq: Number(row.from_seq), carry: row.carry, version: Number(row.version) } : null;
  }

  /**
   * Stores a newer window if nothing changed the suite's window since `basedOn` was read (null:
   * there was none); returns false when it lost that race, and the next analysis folds again.
   */
  async setEngineWindow<Carry>(
    repo: string,
    branch: string,
    suite: string,
    window: { fromSeq: number; carry: Carry },
    basedOn: EngineWindowRecord<Carry> | null = null,
  ): Promise<boolean> {
    const values = [repo, branch, suite, window.fromSeq, JSON.stringify(window.carry), this.now()];
    const written = basedOn
      ? await this.q.query(
          `UPDATE engine_windows SET from_seq = $4, carry = $5, version = version + 1, updated_at = $6
           WHERE repo = $1 AND branch = $2 AND suite = $3 AND version = $7`,
          [...values, basedOn.version],
        )
      : await this.q.query(
          `INSERT INTO engine_windows (repo, branch, suite, from_seq, carry, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING`,
          values,
        );
    return written.rowCount === 1;
  }
}

/** Locks the branch row for the transaction (creating it), so appends and truncations of one branch queue up; returns its next position. */
async function lockBranch(client: Queryable, repo: string, branch: string): Promise<number> {
  await client.query("INSERT INTO branches (repo, branch) VALUES ($1, $2) ON CONFLICT DO NOTHING", [repo, branch]);
  const row = await client.query<{ next_seq: string }>("SELECT next_seq FROM branches WHERE repo = $1 AND branch = $2 FOR UPDATE", [
    repo,
    branch,
  ]);
  return Number(row.rows[0]!.next_seq);
}

/**
 * A job, run, rebaseline or verdict at a commit before a suite's window changes history the carry
 * summarised: the window is reset, so the next analysis folds the whole chain again.
 */
async function reopenWindowsBefore(client: Queryable, repo: string, suite: string, sha: string): Promise<void> {
  await client.query(
    `UPDATE engine_windows w SET from_seq = 0, carry = NULL, version = w.version + 1
     FROM commits c WHERE w.repo = $1 AND w.suite = $2 AND c.repo = w.repo AND c.branch = w.branch AND c.sha = $3 AND c.seq < w.from_seq`,
    [repo, suite, sha],
  );
}

async function setJobState(client: Queryable, repo: string, job: JobRequest, state: JobState, at: Date, error?: string): Promise<void> {
  await client.query(
    `INSERT INTO jobs (repo, id, sha, suite, purpose, job, state, error, enqueued_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     ON CONFLICT (repo, id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, error = COALESCE(EXCLUDED.error, jobs.error)`,
    [repo, jobId(job), job.sha, job.suite, job.purpose, job, state, error ?? null, at],
  );
}

async function upsertRevert(client: Queryable, repo: string, record: RevertRecord): Promise<void> {
  await client.query(
    `INSERT INTO reverts (repo, culprit, suite, outcome, original_pr, revert_pr, record, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (repo, culprit) DO UPDATE SET suite = EXCLUDED.suite, outcome = EXCLUDED.outcome, original_pr = EXCLUDED.original_pr,
       revert_pr = EXCLUDED.revert_pr, at = EXCLUDED.at,
       record = EXCLUDED.record || CASE WHEN reverts.record ? 'relandedAs'
         THEN jsonb_build_object('relandedAs', reverts.record->'relandedAs') ELSE '{}'::jsonb END`,
    [repo, record.culprit, record.suite, record.outcome, record.originalPr ?? null, record.revertPr ?? null, record, record.at],
  );
}

async function insertNote(client: Queryable, repo: string, entry: TimelineEntry): Promise<void> {
  await client.query("INSERT INTO timeline (repo, at, kind, text, sha, suite) VALUES ($1, $2, $3, $4, $5, $6)", [
    repo,
    entry.at,
    entry.kind,
    entry.text,
    entry.sha ?? null,
    entry.suite ?? null,
  ]);
}

/** Host quarantines open now or ended since `since`, oldest first, at most `limit` (the newest of them). */
export async function readHostQuarantines(q: Queryable, repo: string, since: Date, limit: number): Promise<HostQuarantineRecord[]> {
  const rows = await q.query<{ host: string; from_at: Date; to_at: Date | null; summary: string; evidence: string[] }>(
    `SELECT host, from_at, to_at, summary, evidence FROM (
       SELECT * FROM host_quarantines WHERE repo = $1 AND (to_at IS NULL OR to_at >= $2) ORDER BY from_at DESC LIMIT $3
     ) q ORDER BY from_at`,
    [repo, since, limit],
  );
  return rows.rows.map((r) => ({
    host: r.host,
    from: r.from_at.toISOString(),
    ...(r.to_at ? { to: r.to_at.toISOString() } : {}),
    summary: r.summary,
    evidence: r.evidence,
  }));
}
