import type { SuiteConfig } from "../config/schema.js";
import { jobId, type Decision, type EngineInput, type JobPurpose, type JobRequest, type LandedCommit, type RunRecord } from "./types.js";

/** One suite's view of the engine input, indexed once per call so the tracks stay linear. */
export interface SuiteContext {
  suite: SuiteConfig;
  name: string;
  commits: LandedCommit[];
  indexOf: Map<string, number>;
  /** Non-`ab` runs per commit, in input order: every such run observes the commit's own state. */
  runsAt: Map<string, RunRecord[]>;
  /** `ab` runs by `abKey(suspect, baseline)`, in input order. */
  abRuns: Map<string, RunRecord[]>;
  pendingAt: Map<string, JobRequest[]>;
  known: Set<string>;
  declared: Set<string>;
  parallelism: number;
  rebaselines: EngineInput["rebaselines"];
}

export function buildContext(input: EngineInput): SuiteContext {
  const name = input.suite.name;
  const indexOf = new Map(input.commits.map((c, i) => [c.sha, i] as const));
  const runsAt = new Map<string, RunRecord[]>();
  const abRuns = new Map<string, RunRecord[]>();
  const pendingAt = new Map<string, JobRequest[]>();
  const known = new Set<string>();
  for (const run of input.runs) {
    if (run.job.suite !== name) continue;
    known.add(jobId(run.job));
    if (!indexOf.has(run.job.sha)) continue;
    if (run.job.purpose === "ab") push(abRuns, abKey(run.job.sha, run.job.baselineSha ?? ""), run);
    else push(runsAt, run.job.sha, run);
  }
  for (const job of input.pending) {
    if (job.suite !== name) continue;
    known.add(jobId(job));
    push(pendingAt, job.sha, job);
  }
  return {
    suite: input.suite,
    name,
    commits: input.commits,
    indexOf,
    runsAt,
    abRuns,
    pendingAt,
    known,
    declared: new Set(input.declared),
    parallelism: input.parallelism,
    rebaselines: input.rebaselines.filter((r) => r.suite === name && indexOf.has(r.sha)),
  };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function runsOf(ctx: SuiteContext, sha: string): RunRecord[] {
  return ctx.runsAt.get(sha) ?? [];
}

export function abKey(sha: string, baselineSha: string): string {
  return `${sha}|${baselineSha}`;
}

/** Finished and in-flight interleaved runs of `sha` against `baselineSha`. */
export function abState(ctx: SuiteContext, sha: string, baselineSha: string): { runs: RunRecord[]; pending: boolean } {
  return {
    runs: ctx.abRuns.get(abKey(sha, baselineSha)) ?? [],
    pending: (ctx.pendingAt.get(sha) ?? []).some((j) => j.purpose === "ab" && j.baselineSha === baselineSha),
  };
}

export function hasPending(ctx: SuiteContext, sha: string): boolean {
  return (ctx.pendingAt.get(sha) ?? []).some((j) => j.purpose !== "ab");
}

/** Commits that carry a `landed` or `baseline` run: the points the tracks walk; retries and probes only add evidence. */
export function checkpoints(ctx: SuiteContext): LandedCommit[] {
  return ctx.commits.filter((c) => runsOf(ctx, c.sha).some((r) => r.job.purpose === "landed" || r.job.purpose === "baseline"));
}

/** Collects run requests for one call; attempts continue after the highest one already used, so ids never repeat. */
export class Requests {
  readonly decisions: Decision[] = [];
  private readonly requested = new Set<string>();

  constructor(private readonly ctx: SuiteContext) {}

  add(sha: string, purpose: JobPurpose, reason: string, investigation: string, extra: Partial<JobRequest> = {}): void {
    const job: JobRequest = { sha, suite: this.ctx.name, purpose, attempt: this.nextAttempt(sha, purpose, extra.baselineSha), ...extra };
    const id = jobId(job);
    if (this.ctx.known.has(id) || this.requested.has(id)) return;
    this.requested.add(id);
    this.decisions.push({ type: "run", job, reason, investigation });
  }

  /** Requests runs at `sha` (any non-`ab` purpose counts, finished or in flight) until it has `total`. */
  ensureRuns(sha: string, total: number, purpose: JobPurpose, reason: string, investigation: string, runner?: string): boolean {
    const have = runsOf(this.ctx, sha).length + (this.ctx.pendingAt.get(sha) ?? []).filter((j) => j.purpose !== "ab").length;
    for (let i = have; i < total; i++) this.add(sha, purpose, reason, investigation, runner ? { runner } : {});
    return have >= total;
  }

  private nextAttempt(sha: string, purpose: JobPurpose, baselineSha: string | undefined): number {
    const same = (j: JobRequest) => j.sha === sha && j.purpose === purpose && j.baselineSha === baselineSha;
    const finished = purpose === "ab" ? abState(this.ctx, sha, baselineSha ?? "").runs : runsOf(this.ctx, sha);
    const used = [...finished.map((r) => r.job), ...(this.ctx.pendingAt.get(sha) ?? [])]
      .filter(same)
      .map((j) => j.attempt);
    for (const d of this.decisions) if (d.type === "run" && same(d.job)) used.push(d.job.attempt);
    return used.length ? Math.max(...used) + 1 : 1;
  }
}

export function short(sha: string): string {
  return sha.slice(0, 12);
}
