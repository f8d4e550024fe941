import type { RegressionDecision, FlakyDecision, LandedCommit, Rebaseline, RunRecord } from "../../model/engine.js";
import type { RedisHandle } from "./redis.js";
import type { StoredCommit, JobState, JobRecord, VerdictRecord, RevertRecord, TimelineEntry } from "../../model/ledger.js";
import { type JobRequest, jobId } from "../../model/jobs.js";

const APPEND_NEW_COMMITS = `
local added = 0
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    added = added + 1
  end
end
return added`;

/**
 * The Redis ledger: every landed commit, job, result, verdict and revert, per repository.
 * Writes are idempotent (HSETNX or keyed by deterministic ids), so a redelivered webhook or a
 * retried queue job records nothing twice, and a restarted process reads back the same state.
 */
export class Ledger {
  constructor(
    private readonly store: RedisHandle,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private key(repo: string, ...parts: string[]): string {
    return this.store.key("repo", repo, ...parts);
  }

  /** Appends commits not seen before to the branch's chain; returns how many were new. */
  async recordCommits(repo: string, branch: string, commits: LandedCommit[]): Promise<number> {
    if (commits.length === 0) return 0;
    const at = this.now().toISOString();
    const args = commits.flatMap((c) => [c.sha, JSON.stringify({ ...c, branch, landedAt: at } satisfies StoredCommit)]);
    const added = await this.store.redis.eval(APPEND_NEW_COMMITS, 2, this.key(repo, "commits"), this.key(repo, "chain", branch), ...args);
    return Number(added);
  }

  /** After a force push: drops chain entries after `keepThrough` (or all, when it is not on the chain). */
  async truncateChain(repo: string, branch: string, keepThrough: string | null): Promise<string[]> {
    const chainKey = this.key(repo, "chain", branch);
    const chain = await this.store.redis.lrange(chainKey, 0, -1);
    const keep = keepThrough ? chain.indexOf(keepThrough) + 1 : 0;
    const dropped = chain.slice(keep);
    if (dropped.length > 0) {
      await this.store.redis.ltrim(chainKey, 0, keep - 1);
      // HSETNX must accept these shas again if they ever land anew.
      await this.store.redis.hdel(this.key(repo, "commits"), ...dropped);
    }
    return dropped;
  }

  async chain(repo: string, branch: string): Promise<StoredCommit[]> {
    const shas = await this.store.redis.lrange(this.key(repo, "chain", branch), 0, -1);
    if (shas.length === 0) return [];
    const values = await this.store.redis.hmget(this.key(repo, "commits"), ...shas);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as StoredCommit);
  }

  /** Whether the branch has any recorded commit (a first push runs every suite). */
  async hasChain(repo: string, branch: string): Promise<boolean> {
    return (await this.store.redis.llen(this.key(repo, "chain", branch))) > 0;
  }

  async commit(repo: string, sha: string): Promise<StoredCommit | null> {
    const value = await this.store.redis.hget(this.key(repo, "commits"), sha);
    return value ? (JSON.parse(value) as StoredCommit) : null;
  }

  /** Records a job as queued unless it is already known; returns false for a duplicate. */
  async recordJobQueued(repo: string, job: JobRequest): Promise<boolean> {
    const at = this.now().toISOString();
    const id = jobId(job);
    const record: JobRecord = { id, job, state: "queued", enqueuedAt: at, updatedAt: at };
    return (await this.store.redis.hsetnx(this.key(repo, "jobs"), id, JSON.stringify(record))) === 1;
  }

  async setJobState(repo: string, job: JobRequest, state: JobState, error?: string): Promise<void> {
    const id = jobId(job);
    const existing = await this.store.redis.hget(this.key(repo, "jobs"), id);
    const at = this.now().toISOString();
    const base: JobRecord = existing ? (JSON.parse(existing) as JobRecord) : { id, job, state, enqueuedAt: at, updatedAt: at };
    const record: JobRecord = { ...base, state, updatedAt: at, ...(error ? { error } : {}) };
    await this.store.redis.hset(this.key(repo, "jobs"), id, JSON.stringify(record));
  }

  async jobs(repo: string): Promise<JobRecord[]> {
    const all = await this.store.redis.hvals(this.key(repo, "jobs"));
    return all.map((v) => JSON.parse(v) as JobRecord);
  }

  /** Stores a result once per job id; a retried delivery of the same result is ignored. */
  async recordRun(repo: string, run: RunRecord): Promise<boolean> {
    const id = jobId(run.job);
    const fresh = (await this.store.redis.hsetnx(this.key(repo, "runs", run.job.suite), id, JSON.stringify(run))) === 1;
    await this.setJobState(repo, run.job, "done");
    return fresh;
  }

  async runs(repo: string, suite: string): Promise<RunRecord[]> {
    const all = await this.store.redis.hvals(this.key(repo, "runs", suite));
    return all.map((v) => JSON.parse(v) as RunRecord);
  }

  async runsAt(repo: string, sha: string, suites: string[]): Promise<RunRecord[]> {
    const perSuite = await Promise.all(suites.map((suite) => this.runs(repo, suite)));
    return perSuite.flat().filter((run) => run.job.sha === sha);
  }

  /** Records a verdict once; returns false when the same suite and commit already had one. */
  async recordVerdict(repo: string, decision: RegressionDecision | FlakyDecision): Promise<boolean> {
    const sha = decision.type === "regression" ? decision.culprit : decision.sha;
    const field = `${decision.type}.${decision.suite}.${sha}`;
    const record: VerdictRecord = { decision, at: this.now().toISOString() };
    return (await this.store.redis.hsetnx(this.key(repo, "verdicts"), field, JSON.stringify(record))) === 1;
  }

  async verdicts(repo: string): Promise<VerdictRecord[]> {
    const all = await this.store.redis.hvals(this.key(repo, "verdicts"));
    return all.map((v) => JSON.parse(v) as VerdictRecord).sort((a, b) => a.at.localeCompare(b.at));
  }

  async declaredCulprits(repo: string, suite: string): Promise<string[]> {
    return (await this.verdicts(repo))
      .map((v) => v.decision)
      .filter((d): d is RegressionDecision => d.type === "regression" && d.suite === suite)
      .map((d) => d.culprit);
  }

  /** Claims the right to act on a culprit once; a second claim (retry, other process) gets false. */
  async recordRevert(repo: string, record: RevertRecord): Promise<void> {
    await this.store.redis.hset(this.key(repo, "reverts"), record.culprit, JSON.stringify(record));
  }

  async reverts(repo: string): Promise<RevertRecord[]> {
    const all = await this.store.redis.hvals(this.key(repo, "reverts"));
    return all.map((v) => JSON.parse(v) as RevertRecord).sort((a, b) => a.at.localeCompare(b.at));
  }

  async revertsToday(repo: string): Promise<number> {
    const day = this.now().toISOString().slice(0, 10);
    return Number((await this.store.redis.hget(this.key(repo, "revert-days"), day)) ?? 0);
  }

  async countRevertToday(repo: string): Promise<void> {
    await this.store.redis.hincrby(this.key(repo, "revert-days"), this.now().toISOString().slice(0, 10), 1);
  }

  async recordRebaseline(repo: string, rebaseline: Rebaseline): Promise<void> {
    await this.store.redis.rpush(this.key(repo, "rebaselines"), JSON.stringify(rebaseline));
  }

  async rebaselines(repo: string, suite: string): Promise<Rebaseline[]> {
    const all = await this.store.redis.lrange(this.key(repo, "rebaselines"), 0, -1);
    return all.map((v) => JSON.parse(v) as Rebaseline).filter((r) => r.suite === suite);
  }

  /** The branch head Sheriff last planned from; its config governs later analyses. */
  async setHead(repo: string, branch: string, sha: string): Promise<void> {
    await this.store.redis.hset(this.key(repo, "heads"), branch, sha);
  }

  async head(repo: string, branch: string): Promise<string | null> {
    return this.store.redis.hget(this.key(repo, "heads"), branch);
  }

  async checkRunId(repo: string, sha: string): Promise<number | null> {
    const value = await this.store.redis.hget(this.key(repo, "check-runs"), sha);
    return value ? Number(value) : null;
  }

  async setCheckRunId(repo: string, sha: string, id: number): Promise<void> {
    await this.store.redis.hset(this.key(repo, "check-runs"), sha, String(id));
  }

  async note(repo: string, entry: Omit<TimelineEntry, "at">): Promise<void> {
    const full: TimelineEntry = { at: this.now().toISOString(), ...entry };
    await this.store.redis.rpush(this.key(repo, "timeline"), JSON.stringify(full));
  }

  async timeline(repo: string): Promise<TimelineEntry[]> {
    const all = await this.store.redis.lrange(this.key(repo, "timeline"), 0, -1);
    return all.map((v) => JSON.parse(v) as TimelineEntry);
  }
}
