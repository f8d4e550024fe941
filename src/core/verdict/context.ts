import type { SuiteConfig } from "../../model/config.js";
import { type Decision, type EngineInput, type HostQuarantine, type LandedCommit, type RunRecord } from "../../model/engine.js";
import { jobId, nextAttempt, type JobPurpose, type JobRequest } from "../../model/jobs.js";
import { revertedTitle } from "../../model/revertCommit.js";
import { discounted } from "./hosts.js";

/** One suite's view of the engine input, indexed once per call so the tracks stay linear. */
export interface SuiteContext {
  suite: SuiteConfig;
  name: string;
  commits: LandedCommit[];
  indexOf: Map<string, number>;
  /**
   * Non-`ab` runs per state, in input order. A state is a commit (key: its sha), or a commit with
   * reverts cherry-picked onto it (key: `stateKey`); plain runs observe the commit's own state.
   */
  runsAt: Map<string, RunRecord[]>;
  /** `ab` runs by `abKey(suspect state, baseline state)`, in input order. */
  abRuns: Map<string, RunRecord[]>;
  /**
   * Each half of the `ab` runs of a commit against its own parent, by the state it measured: a
   * boundary check runs culprit and parent in one job, and the tests of both halves are evidence.
   */
  parentAbHalves: Map<string, RunRecord[]>;
  /** Jobs in flight per state (same keys as `runsAt`). */
  pendingAt: Map<string, JobRequest[]>;
  /** Non-`ab` runs by commit, whatever was cherry-picked onto it: what a commit was seen to do in any state. */
  anyRunsAt: Map<string, RunRecord[]>;
  /** Every job, finished or in flight, by commit whatever was cherry-picked: attempt numbering. */
  jobsAt: Map<string, JobRequest[]>;
  /** The runner can build a commit with reverts cherry-picked onto it. */
  cherryPick: boolean;
  known: Set<string>;
  declared: Set<string>;
  parallelism: number;
  /** The fleet's hosts (`EngineInput.hosts`): how many a blame needs, where a confirming run may go. */
  fleet: string[];
  /** `EngineInput.quarantines`: which hosts were out when, so a requirement reads the fleet of its own time. */
  quarantines: HostQuarantine[];
  rebaselines: EngineInput["rebaselines"];
  /** Set to record every `maskWindows` scan, for a caller that must know which declarations a walk read. */
  maskScans?: MaskScan[];
}

/** One `maskWindows` call: the range it searched and which culprits it would count. */
export interface MaskScan {
  fromIndex: number;
  toIndex: number;
  masks: (culprit: LandedCommit) => boolean;
}

export function buildContext(input: EngineInput): SuiteContext {
  const name = input.suite.name;
  const indexOf = new Map(input.commits.map((c, i) => [c.sha, i] as const));
  const runsAt = new Map<string, RunRecord[]>();
  const abRuns = new Map<string, RunRecord[]>();
  const parentAbHalves = new Map<string, RunRecord[]>();
  const parentOf = new Map(input.commits.map((c) => [c.sha, c.parent] as const));
  const pendingAt = new Map<string, JobRequest[]>();
  const jobsAt = new Map<string, JobRequest[]>();
  const anyRunsAt = new Map<string, RunRecord[]>();
  const known = new Set<string>();
  const quarantines = input.quarantines ?? [];
  for (const run of input.runs) {
    if (run.job.suite !== name) continue;
    known.add(jobId(run.job));
    if (!indexOf.has(run.job.sha)) continue;
    push(jobsAt, run.job.sha, run.job);
    // A quarantined host's results say nothing about the code; its job ids stay used all the same.
    if (quarantines.length && discounted(run, quarantines)) continue;
    const state = stateKey(run.job.sha, run.job.cherryPicks);
    if (run.job.purpose === "ab") {
      const baseState = stateKey(run.job.baselineSha ?? "", run.job.baselineCherryPicks);
      push(abRuns, abKey(state, baseState), run);
      const baselineSha = run.job.baselineSha;
      if (run.baselineResult && baselineSha !== undefined && baselineSha === parentOf.get(run.job.sha)) {
        push(parentAbHalves, state, run);
        const half: JobRequest = { ...run.job, sha: baselineSha };
        delete half.cherryPicks;
        delete half.baselineCherryPicks;
        if (run.job.baselineCherryPicks) half.cherryPicks = run.job.baselineCherryPicks;
        push(parentAbHalves, baseState, { job: half, result: run.baselineResult });
      }
    } else {
      push(runsAt, state, run);
      push(anyRunsAt, run.job.sha, run);
    }
  }
  for (const job of input.pending) {
    if (job.suite !== name) continue;
    known.add(jobId(job));
    push(jobsAt, job.sha, job);
    push(pendingAt, stateKey(job.sha, job.cherryPicks), job);
  }
  return {
    suite: input.suite,
    name,
    commits: input.commits,
    indexOf,
    runsAt,
    abRuns,
    parentAbHalves,
    pendingAt,
    known,
    jobsAt,
    anyRunsAt,
    cherryPick: input.capabilities?.cherryPick === true,
    declared: new Set(input.declared),
    parallelism: input.parallelism,
    fleet: input.hosts ?? [],
    quarantines,
    rebaselines: input.rebaselines.filter((r) => r.suite === name && indexOf.has(r.sha)),
  };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The key of the state "commit `sha` with `picks` cherry-picked onto it" (the sha alone without picks). */
export function stateKey(sha: string, picks?: string[]): string {
  return picks?.length ? `${sha}+${picks.join("+")}` : sha;
}

function samePicks(a: string[] | undefined, b: string[] | undefined): boolean {
  return stateKey("", a) === stateKey("", b);
}

/** Plain runs of a state plus the halves of its boundary checks against (or as) a parent. */
export function testRunsOf(ctx: SuiteContext, sha: string, picks?: string[]): RunRecord[] {
  const halves = ctx.parentAbHalves.get(stateKey(sha, picks));
  return halves ? [...runsOf(ctx, sha, picks), ...halves] : runsOf(ctx, sha, picks);
}

/** Runs observing `sha`'s own state, or with `picks` cherry-picked onto it. */
export function runsOf(ctx: SuiteContext, sha: string, picks?: string[]): RunRecord[] {
  return ctx.runsAt.get(stateKey(sha, picks)) ?? [];
}

export function abKey(sha: string, baselineSha: string): string {
  return `${sha}|${baselineSha}`;
}

/** Finished and in-flight interleaved runs of `sha` (with `picks`) against `baselineSha` (with `basePicks`). */
export function abState(
  ctx: SuiteContext,
  sha: string,
  baselineSha: string,
  picks?: string[],
  basePicks?: string[],
): { runs: RunRecord[]; pending: boolean } {
  return {
    runs: ctx.abRuns.get(abKey(stateKey(sha, picks), stateKey(baselineSha, basePicks))) ?? [],
    pending: (ctx.pendingAt.get(stateKey(sha, picks)) ?? []).some(
      (j) => j.purpose === "ab" && j.baselineSha === baselineSha && samePicks(j.baselineCherryPicks, basePicks),
    ),
  };
}

export function hasPending(ctx: SuiteContext, sha: string, picks?: string[]): boolean {
  return (ctx.pendingAt.get(stateKey(sha, picks)) ?? []).some((j) => j.purpose !== "ab");
}

/**
 * A declared culprit and the revert of it that landed later: every commit from the culprit up
 * to (not including) the revert carries its effect on the branch, and can be measured without
 * it only with the revert cherry-picked on top.
 */
export interface MaskWindow {
  culprit: number;
  revert: number;
  revertSha: string;
}

/**
 * Windows of declared culprits inside (`fromIndex`, `toIndex`] whose revert also landed by
 * `toIndex`, kept where `masks` says the culprit hid what is being searched. Empty unless the
 * runner can cherry-pick. A revert names its culprit by title (`Revert "<title>"`, git's own
 * form); the nearest earlier declared commit of that title is the one reverted.
 */
export function maskWindows(
  ctx: SuiteContext,
  fromIndex: number,
  toIndex: number,
  masks: (culprit: LandedCommit) => boolean,
): MaskWindow[] {
  if (!ctx.cherryPick) return [];
  ctx.maskScans?.push({ fromIndex, toIndex, masks });
  const out: MaskWindow[] = [];
  for (let r = fromIndex + 2; r <= toIndex; r++) {
    const revert = ctx.commits[r]!;
    const title = revert.isRevert ? revertedTitle(revert.title) : undefined;
    if (title === undefined) continue;
    for (let c = r - 1; c > fromIndex; c--) {
      const culprit = ctx.commits[c]!;
      if (culprit.title !== title || !ctx.declared.has(culprit.sha)) continue;
      if (!out.some((w) => w.culprit === c) && masks(culprit)) out.push({ culprit: c, revert: r, revertSha: revert.sha });
      break;
    }
  }
  return out;
}

/**
 * Every non-`ab` run of `sha`, plain or with reverts cherry-picked: how a culprit showed itself.
 * A culprit found inside another culprit's window was only ever run with that one's revert applied.
 */
export function anyRunsOf(ctx: SuiteContext, sha: string): RunRecord[] {
  return ctx.anyRunsAt.get(sha) ?? [];
}

/** The reverts to cherry-pick onto commit index `i`: those of the windows it lies in, in landing order. */
export function picksAt(windows: MaskWindow[], i: number): string[] | undefined {
  const picks = windows.filter((w) => w.culprit <= i && i < w.revert).map((w) => w.revertSha);
  return picks.length ? picks : undefined;
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

  add(
    sha: string,
    purpose: JobPurpose,
    reason: string,
    investigation: string,
    extra: Partial<JobRequest> = {},
    avoidHosts?: string[],
  ): void {
    const job: JobRequest = { sha, suite: this.ctx.name, purpose, attempt: this.nextAttempt(sha, purpose, extra), ...extra };
    const id = jobId(job);
    if (this.ctx.known.has(id) || this.requested.has(id)) return;
    this.requested.add(id);
    this.decisions.push({ type: "run", job, reason, investigation, ...(avoidHosts ? { avoidHosts } : {}) });
  }

  /** Requests runs at `sha` (any non-`ab` purpose counts, finished or in flight) until it has `total`. */
  ensureRuns(sha: string, total: number, purpose: JobPurpose, reason: string, investigation: string, avoidHosts?: string[]): boolean {
    const have = runsOf(this.ctx, sha).length + (this.ctx.pendingAt.get(sha) ?? []).filter((j) => j.purpose !== "ab").length;
    for (let i = have; i < total; i++) this.add(sha, purpose, reason, investigation, {}, avoidHosts);
    return have >= total;
  }

  private nextAttempt(sha: string, purpose: JobPurpose, extra: Partial<JobRequest>): number {
    const same = (j: JobRequest) =>
      j.sha === sha &&
      j.purpose === purpose &&
      j.baselineSha === extra.baselineSha &&
      samePicks(j.cherryPicks, extra.cherryPicks) &&
      samePicks(j.baselineCherryPicks, extra.baselineCherryPicks);
    const used = (this.ctx.jobsAt.get(sha) ?? []).filter(same).map((j) => j.attempt);
    for (const d of this.decisions) if (d.type === "run" && same(d.job)) used.push(d.job.attempt);
    return nextAttempt(used);
  }
}
