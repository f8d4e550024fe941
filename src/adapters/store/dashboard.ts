import type pg from "pg";
import type { BenchmarkPoint, ChainCommit, PageFacts, RevertFact } from "../../model/dashboard.js";
import type { HostQuarantineRecord, RevertOutcome } from "../../model/ledger.js";
import { readHostQuarantines } from "./ledger.js";
import type { Database } from "./database.js";

/** The most commits one grid page shows. */
export const MAX_PAGE_COMMITS = 500;
/** The most runs one benchmark chart reads. */
export const MAX_CHART_RUNS = 2_000;

interface ChainRow {
  seq: string;
  sha: string;
  parent: string;
  title: string;
  author: string;
  suites: string[];
  is_revert: boolean;
  landed_at: Date;
}

function toChainCommit(row: ChainRow): ChainCommit {
  return {
    seq: Number(row.seq),
    sha: row.sha,
    parent: row.parent,
    title: row.title,
    author: row.author,
    suites: row.suites,
    isRevert: row.is_revert,
    landedAt: row.landed_at.toISOString(),
  };
}

const CHAIN_COLUMNS = "seq, sha, parent, title, author, suites, is_revert, landed_at";

export interface CommitPageQuery {
  branch: string;
  /** Commits before this chain position (exclusive); the newest when absent. */
  beforeSeq?: number;
  limit: number;
  author?: string;
  /** Only commits touching one of these suites. */
  suites?: string[];
}

/**
 * The dashboard's reads: every query is bounded by a page of commits (by chain position, through
 * the commits' primary key), a list of shas, or a LIMIT, so a page costs the same on a year of history.
 */
export class DashboardStore {
  constructor(private readonly db: Database) {}

  private get q(): Pick<pg.Pool, "query"> {
    return this.db.pool;
  }

  /** Repositories and branches with a recorded chain. */
  async branches(): Promise<{ repo: string; branch: string; head: string | null; commits: number }[]> {
    const rows = await this.q.query<{ repo: string; branch: string; head: string | null; next_seq: string }>(
      "SELECT repo, branch, head, next_seq FROM branches ORDER BY repo, branch LIMIT 1000",
    );
    return rows.rows.map((r) => ({ repo: r.repo, branch: r.branch, head: r.head, commits: Number(r.next_seq) }));
  }

  /** Up to `limit` commits, newest first, and whether older ones match too. */
  async commitPage(repo: string, query: CommitPageQuery): Promise<{ commits: ChainCommit[]; more: boolean }> {
    const limit = Math.min(Math.max(query.limit, 1), MAX_PAGE_COMMITS);
    const rows = await this.q.query<ChainRow>(
      `SELECT ${CHAIN_COLUMNS} FROM commits
       WHERE repo = $1 AND branch = $2 AND seq < $3 AND ($4::text IS NULL OR author = $4) AND ($5::text[] IS NULL OR suites && $5)
       ORDER BY seq DESC LIMIT $6`,
      [repo, query.branch, query.beforeSeq ?? Number.MAX_SAFE_INTEGER, query.author ?? null, query.suites ?? null, limit + 1],
    );
    return { commits: rows.rows.slice(0, limit).map(toChainCommit), more: rows.rows.length > limit };
  }

  /** Landed commits whose sha starts with `prefix` (newest landing first), at most `limit`. */
  async commitsByPrefix(repo: string, prefix: string, limit = 2): Promise<(ChainCommit & { branch: string })[]> {
    const rows = await this.q.query<ChainRow & { branch: string }>(
      `SELECT ${CHAIN_COLUMNS}, branch FROM commits WHERE repo = $1 AND sha >= $2 AND sha < $2 || 'g' ORDER BY sha, landed_at DESC LIMIT $3`,
      [repo, prefix.toLowerCase(), limit],
    );
    return rows.rows.map((r) => ({ ...toChainCommit(r), branch: r.branch }));
  }

  /** Jobs, runs (status and test counts only), verdicts and reverts of these commits. */
  async pageFacts(repo: string, shas: string[]): Promise<PageFacts> {
    if (shas.length === 0) return { jobs: [], runs: [], verdicts: [], reverts: [] };
    const [jobs, runs, verdicts, reverts] = await Promise.all([
      this.q.query("SELECT sha, suite, purpose, state FROM jobs WHERE repo = $1 AND sha = ANY($2) ORDER BY ord", [repo, shas]),
      this.q.query(
        `SELECT job_id, sha, suite, purpose, result->>'status' AS status, jsonb_array_length(result->'tests') AS tests,
           (SELECT count(*) FROM jsonb_array_elements(result->'tests') t WHERE t->>'outcome' IN ('fail', 'error')) AS failed
         FROM runs WHERE repo = $1 AND sha = ANY($2) ORDER BY ord`,
        [repo, shas],
      ),
      this.q.query("SELECT type, suite, sha, decision->>'summary' AS summary FROM verdicts WHERE repo = $1 AND sha = ANY($2) ORDER BY at", [
        repo,
        shas,
      ]),
      this.q.query<RevertRow>("SELECT culprit, suite, outcome, revert_pr, original_pr FROM reverts WHERE repo = $1 AND culprit = ANY($2)", [
        repo,
        shas,
      ]),
    ]);
    return {
      jobs: jobs.rows,
      runs: runs.rows.map(
        (r: { job_id: string; sha: string; suite: string; purpose: string; status: string; tests: number; failed: string }) => ({
          jobId: r.job_id,
          sha: r.sha,
          suite: r.suite,
          purpose: r.purpose as PageFacts["runs"][number]["purpose"],
          status: r.status as PageFacts["runs"][number]["status"],
          tests: Number(r.tests),
          failed: Number(r.failed),
        }),
      ),
      verdicts: verdicts.rows,
      reverts: reverts.rows.map(toRevertFact),
    };
  }

  /** Commits of a searched range (last good exclusive, first bad inclusive) where the suite ran bisection probes. */
  async probedShas(repo: string, branch: string, suite: string, range: { from: string; to: string }): Promise<string[]> {
    const rows = await this.q.query<{ sha: string }>(
      `SELECT DISTINCT j.sha FROM commits c JOIN jobs j ON j.repo = c.repo AND j.sha = c.sha AND j.suite = $3 AND j.purpose = 'bisect'
       WHERE c.repo = $1 AND c.branch = $2
         AND c.seq > (SELECT seq FROM commits WHERE repo = $1 AND branch = $2 AND sha = $4)
         AND c.seq <= (SELECT seq FROM commits WHERE repo = $1 AND branch = $2 AND sha = $5)
       LIMIT $6`,
      [repo, branch, suite, range.from, range.to, MAX_PAGE_COMMITS],
    );
    return rows.rows.map((r) => r.sha);
  }

  /** Benchmark names the suite's newest run reported. */
  async benchmarkNames(repo: string, suite: string): Promise<string[]> {
    const rows = await this.q.query<{ name: string }>(
      `SELECT b->>'name' AS name FROM (SELECT result FROM runs WHERE repo = $1 AND suite = $2 ORDER BY ord DESC LIMIT 1) r,
         jsonb_array_elements(r.result->'benchmarks') b`,
      [repo, suite],
    );
    return rows.rows.map((r) => r.name);
  }

  /** The benchmark's median (and its reference's) in the suite's newest `limit` runs, oldest first; A/B runs left out. */
  async benchmarkPoints(repo: string, branch: string, suite: string, benchmark: string, limit: number): Promise<BenchmarkPoint[]> {
    const rows = await this.q.query<{
      job_id: string;
      sha: string;
      purpose: BenchmarkPoint["purpose"];
      recorded_at: Date;
      gpu: string;
      median: number;
      ref_median: number | null;
      samples: number;
      seq: string | null;
    }>(
      `SELECT r.job_id, r.sha, r.purpose, r.recorded_at, c.seq,
         coalesce(r.result->'environment'->>'gpu', r.result->'environment'->>'executor', 'unknown') AS gpu,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s::float8) FROM jsonb_array_elements_text(b->'samples') s) AS median,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s::float8) FROM jsonb_array_elements_text(b->'reference'->'samples') s) AS ref_median,
         coalesce((b->>'sampleCount')::int, jsonb_array_length(b->'samples')) AS samples
       FROM (SELECT * FROM runs WHERE repo = $1 AND suite = $2 AND purpose <> 'ab' ORDER BY ord DESC LIMIT $5) r
       CROSS JOIN LATERAL jsonb_array_elements(r.result->'benchmarks') b
       LEFT JOIN commits c ON c.repo = r.repo AND c.branch = $3 AND c.sha = r.sha
       WHERE b->>'name' = $4
       ORDER BY r.ord`,
      [repo, suite, branch, benchmark, Math.min(Math.max(limit, 1), MAX_CHART_RUNS)],
    );
    return rows.rows.map((r) => ({
      jobId: r.job_id,
      sha: r.sha,
      seq: r.seq === null ? null : Number(r.seq),
      purpose: r.purpose,
      at: r.recorded_at.toISOString(),
      gpu: r.gpu,
      median: r.median,
      ...(r.ref_median !== null ? { referenceMedian: r.ref_median } : {}),
      samples: r.samples,
    }));
  }

  /** The levels the engine's performance walk currently screens against (its window's anchors). */
  async acceptedLevels(repo: string, branch: string, suite: string): Promise<{ sha: string; note?: string }[]> {
    const rows = await this.q.query<{ anchors: { sha: string; note?: string }[] | null }>(
      `SELECT carry->'engine'->'performance'->'anchors' AS anchors FROM engine_windows WHERE repo = $1 AND branch = $2 AND suite = $3`,
      [repo, branch, suite],
    );
    return rows.rows[0]?.anchors ?? [];
  }

  /** The suite's newest performance regressions (the detected steps and their culprits). */
  async performanceSteps(
    repo: string,
    suite: string,
    limit = 50,
  ): Promise<{ culprit: string; lastGood: string; summary: string; at: string }[]> {
    const rows = await this.q.query<{ culprit: string; last_good: string; summary: string; at: Date }>(
      `SELECT sha AS culprit, decision->>'lastGood' AS last_good, decision->>'summary' AS summary, at FROM verdicts
       WHERE repo = $1 AND type = 'regression' AND suite = $2 AND decision->>'kind' = 'performance' ORDER BY at DESC LIMIT $3`,
      [repo, suite, limit],
    );
    return rows.rows.map((r) => ({ culprit: r.culprit, lastGood: r.last_good, summary: r.summary, at: r.at.toISOString() }));
  }

  /** The suite's newest rebaselines. */
  async rebaselines(repo: string, suite: string, limit = 50): Promise<{ sha: string; reason: string; by: string; at: string }[]> {
    const rows = await this.q.query<{ sha: string; reason: string; by_login: string; at: Date }>(
      "SELECT sha, reason, by_login, at FROM rebaselines WHERE repo = $1 AND suite = $2 ORDER BY id DESC LIMIT $3",
      [repo, suite, limit],
    );
    return rows.rows.map((r) => ({ sha: r.sha, reason: r.reason, by: r.by_login, at: r.at.toISOString() }));
  }

  /** The repository's newest reverts records (what was done about each culprit), at most `limit`. */
  async recentReverts(
    repo: string,
    limit = 100,
  ): Promise<(RevertFact & { reason: string; summary: string; at: string; relandedAs?: string })[]> {
    const rows = await this.q.query<RevertRow & { record: { reason: string; summary: string; relandedAs?: string }; at: Date }>(
      "SELECT culprit, suite, outcome, revert_pr, original_pr, record, at FROM reverts WHERE repo = $1 ORDER BY at DESC LIMIT $2",
      [repo, limit],
    );
    return rows.rows.map((r) => ({
      ...toRevertFact(r),
      reason: r.record.reason,
      summary: r.record.summary,
      at: r.at.toISOString(),
      ...(r.record.relandedAs ? { relandedAs: r.record.relandedAs } : {}),
    }));
  }

  /** Host quarantines open now or ended since `since`, at most `limit` of the newest. */
  async hostQuarantines(repo: string, since: Date, limit = 50): Promise<HostQuarantineRecord[]> {
    return readHostQuarantines(this.q, repo, since, limit);
  }

  /** The repository's GPU jobs recorded since `since`, per host and GPU: how many, and their seconds on the GPU. */
  async gpuTime(repo: string, since: Date): Promise<{ host: string; gpu: number | null; runs: number; seconds: number }[]> {
    // Through the recent-runs index (its rows keep their samples until retention reduces them, long after a day).
    const rows = await this.q.query<{ host: string | null; gpu: string | null; runs: string; seconds: string | null }>(
      `SELECT result->'environment'->>'host' AS host, result->'environment'->>'gpuIndex' AS gpu, count(*) AS runs,
              sum(GREATEST(0, extract(epoch FROM (result->>'finishedAt')::timestamptz - (result->>'startedAt')::timestamptz))) AS seconds
       FROM runs WHERE recorded_at >= $2 AND NOT samples_reduced AND repo = $1 GROUP BY 1, 2`,
      [repo, since],
    );
    return rows.rows.map((r) => ({
      host: r.host ?? "unknown",
      gpu: r.gpu === null ? null : Number(r.gpu),
      runs: Number(r.runs),
      seconds: Number(r.seconds ?? 0),
    }));
  }

  /** The repository's newest flaky verdicts, at most `limit`. */
  async recentFlakes(repo: string, limit = 100): Promise<{ suite: string; sha: string; tests: string[]; at: string }[]> {
    const rows = await this.q.query<{ suite: string; sha: string; tests: string[]; at: Date }>(
      `SELECT suite, sha, ARRAY(SELECT jsonb_array_elements_text(decision->'tests')) AS tests, at FROM verdicts
       WHERE repo = $1 AND type = 'flaky' ORDER BY at DESC LIMIT $2`,
      [repo, limit],
    );
    return rows.rows.map((r) => ({ suite: r.suite, sha: r.sha, tests: r.tests, at: r.at.toISOString() }));
  }

  /** Verdicts recorded, by type and kind (the verdicts table holds one row per decision, not per run). */
  async verdictCounts(): Promise<{ type: string; kind: string; count: number }[]> {
    const rows = await this.q.query<{ type: string; kind: string | null; count: string }>(
      "SELECT type, decision->>'kind' AS kind, count(*) AS count FROM verdicts GROUP BY 1, 2",
    );
    return rows.rows.map((r) => ({ type: r.type, kind: r.kind ?? "flaky", count: Number(r.count) }));
  }

  /**
   * Run durations (the result's finishedAt - startedAt) per suite over the runs recorded since `since`,
   * as quantiles: read by the index on recent runs, so the cost follows the window, not the history.
   */
  async recentRunDurations(since: Date): Promise<{ suite: string; runs: number; p50: number; p90: number; max: number }[]> {
    const rows = await this.q.query<{ suite: string; runs: string; p50: number; p90: number; max: number }>(
      `SELECT suite, count(*) AS runs,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY d) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY d) AS p90, max(d) AS max
       FROM (SELECT suite, extract(epoch FROM ((result->>'finishedAt')::timestamptz - (result->>'startedAt')::timestamptz))::float8 AS d
             FROM runs WHERE recorded_at >= $1 AND NOT samples_reduced) r
       GROUP BY suite`,
      [since],
    );
    return rows.rows.map((r) => ({ suite: r.suite, runs: Number(r.runs), p50: r.p50, p90: r.p90, max: r.max }));
  }

  async revertCounts(): Promise<{ outcome: string; count: number }[]> {
    const rows = await this.q.query<{ outcome: string; count: string }>("SELECT outcome, count(*) AS count FROM reverts GROUP BY 1");
    return rows.rows.map((r) => ({ outcome: r.outcome, count: Number(r.count) }));
  }
}

interface RevertRow {
  culprit: string;
  suite: string;
  outcome: RevertOutcome;
  revert_pr: number | null;
  original_pr: number | null;
}

function toRevertFact(row: RevertRow): RevertFact {
  return {
    culprit: row.culprit,
    suite: row.suite,
    outcome: row.outcome,
    ...(row.revert_pr !== null ? { revertPr: row.revert_pr } : {}),
    ...(row.original_pr !== null ? { originalPr: row.original_pr } : {}),
  };
}
