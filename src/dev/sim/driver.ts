import type { SuiteConfig } from "../../model/config.js";
import { planLandedJobs } from "../../core/plan.js";
import { decide } from "../../core/verdict/engine.js";
import { type Decision, type DecisionEngine, type EngineInput, type RunRecord } from "../../model/engine.js";
import {
  DEFAULT_OPTIONS,
  SUITE,
  iso,
  planStream,
  shaFor,
  synthesize,
  type PlannedCommit,
  type SimCommit,
  type SimOptions,
} from "./model.js";
import { Rng } from "./prng.js";
import { fastFailMinutes, fleetHosts, hostOf } from "./fleet.js";
import { hostHealth } from "../../core/verdict/hostHealth.js";
import type { HostQuarantine } from "../../model/engine.js";
import { summarize, type SimulationReport } from "./metrics.js";
import { SimHistory } from "./history.js";
import type { QueuedJob, SimTrace } from "./trace.js";
import { jobId, type JobRequest } from "../../model/jobs.js";
import { revertTitle } from "../../model/revertCommit.js";

/**
 * Drives the real engine the way the app does: after each landed push (once its `landed` job
 * is queued) and after each result, then queues the `run` decisions, lands a revert for each
 * regression, and records flaky reports. GPUs take investigation jobs before `landed` ones,
 * and a newer push's `landed` job replaces a still-queued older one: under load, not every
 * commit is tested, which is the situation bisection exists for. Like the app, it keeps only the
 * window of history the engine still needs (`SimHistory`), so a long stream costs linear time.
 */

/** Runs of the fleet the host health check reads: its recent past. */
const HEALTH_RUNS = 300;
/** Canary jobs number their attempts from here, clear of the engine's own. */
const CANARY_ATTEMPTS = 10_000;

type EventBody =
  | { at: number; kind: "push"; commits: PlannedCommit[] }
  | { at: number; kind: "done"; id: string }
  | { at: number; kind: "revert"; culprit: string };
type Event = EventBody & { seq: number };

/** One engine call: its windowed input, what it decided, and the whole-history input it stands for. */
export interface EngineCall {
  input: EngineInput;
  decisions: Decision[];
  full: () => EngineInput;
  windowLength: number;
}

export function simulate(
  partial: Partial<SimOptions> = {},
  engine: DecisionEngine = decide,
  onCall?: (call: EngineCall) => void,
): SimTrace {
  const o: SimOptions = { ...DEFAULT_OPTIONS, ...partial, thresholds: { ...DEFAULT_OPTIONS.thresholds, ...partial.thresholds } };
  const suite: SuiteConfig = {
    kind: "command",
    name: SUITE,
    command: "sim",
    paths: ["kernels/**"],
    timeoutSeconds: 1800,
    thresholds: o.thresholds,
  };
  const rng = new Rng(o.seed).fork(2);
  const events = new EventQueue();
  for (const p of planStream(o)) events.push({ at: p.at, kind: "push", commits: p.commits });

  const history = new SimHistory();
  const jobs = new Map<string, QueuedJob>();
  const queue: string[] = [];
  const gpus: (string | undefined)[] = Array.from({ length: o.gpus }, () => undefined);
  const regressions: SimTrace["regressions"] = [];
  const reverts = new Map<string, number>();
  const flaky = new Set<string>();
  const reports = new Map<string, SimTrace["reports"][number]>();
  const quarantines: HostQuarantine[] = [];
  let canaries = 0;
  const openQuarantine = (host: string) => quarantines.some((q) => q.host === host && q.to === undefined);
  let shaCounter = 0;
  let now = 0;

  const land = (c: PlannedCommit | { title: string; revertOf: string }): SimCommit => {
    const parent = history.head();
    const sha = shaFor(++shaCounter, o.seed);
    const inherited = parent?.active ?? [];
    let commit: SimCommit;
    if ("revertOf" in c) {
      const undone = history.commit(c.revertOf).effect;
      commit = {
        sha,
        parent: parent?.sha ?? "",
        title: c.title,
        author: "sheriff",
        suites: [SUITE],
        isRevert: true,
        landedAt: now,
        active: inherited.filter((e) => e !== undone),
        renames: parent?.renames ?? 0,
      };
      if (undone) commit.undoes = undone;
    } else {
      const kept = c.fixes ? inherited.filter((e) => e !== c.fixes) : inherited;
      const active = c.effect ? [...kept, c.effect] : kept;
      commit = {
        sha,
        parent: parent?.sha ?? "",
        title: c.title,
        author: "dev",
        suites: c.touches ? [SUITE] : [],
        isRevert: false,
        landedAt: now,
        active,
        renames: (parent?.renames ?? 0) + (c.renames ? 1 : 0),
      };
      if (c.effect) commit.effect = c.effect;
      if (c.fixes) commit.undoes = c.fixes;
    }
    history.land(commit);
    return commit;
  };

  const enqueue = (job: JobRequest, investigation?: string, avoidHosts?: string[], onlyHost?: string): void => {
    const id = jobId(job);
    if (jobs.has(id)) return;
    if (job.purpose === "landed") {
      // Coalesce: an older landed job nobody has started yet is superseded by this newer commit.
      for (let i = queue.length - 1; i >= 0; i--) {
        const q = jobs.get(queue[i]!)!;
        if (q.job.purpose === "landed") {
          jobs.delete(queue[i]!);
          history.pending.delete(queue[i]!);
          queue.splice(i, 1);
        }
      }
    }
    jobs.set(id, { job, investigation, queuedAt: now, ...(avoidHosts ? { avoidHosts } : {}), ...(onlyHost ? { onlyHost } : {}) });
    // A canary is the fleet's job, not the suite's: the engine neither waits for it nor counts on its result.
    if (!onlyHost) history.pending.set(id, job);
    queue.push(id);
  };

  const startJobs = (): void => {
    for (let g = 0; g < gpus.length; g++) {
      if (gpus[g] !== undefined || queue.length === 0) continue;
      // A job that checks failures stays off the hosts that produced them, as the app's queue routes it.
      // A quarantined host runs only its canaries; a canary runs only there.
      const host = hostOf(g, o);
      const quarantined = openQuarantine(host);
      const allowed = (id: string) => {
        const q = jobs.get(id)!;
        if (q.onlyHost) return q.onlyHost === host;
        // Away from the hosts that failed, where an admitted host outside them is left.
        const elsewhere = fleetHosts(o).some((h) => !q.avoidHosts?.includes(h) && !openQuarantine(h));
        return !quarantined && (!elsewhere || !q.avoidHosts?.includes(host));
      };
      const investigation = queue.findIndex((id) => jobs.get(id)!.job.purpose !== "landed" && allowed(id));
      const pick = investigation >= 0 ? investigation : queue.findIndex(allowed);
      if (pick < 0) continue;
      const [id] = queue.splice(pick, 1);
      const q = jobs.get(id!)!;
      q.startedAt = now;
      q.gpu = g;
      gpus[g] = id;
      const minutes = o.jobMin * (0.9 + 0.2 * rng.next()) * (q.job.purpose === "ab" ? o.abJobFactor : 1);
      const fastFail = fastFailMinutes(o, g, now);
      if (fastFail !== undefined) q.fastFailed = true;
      events.push({ at: now + (fastFail ?? minutes), kind: "done", id: id! });
    }
  };

  // Per-host health across the fleet's recent runs, as the app keeps it across suites.
  const checkHosts = (): void => {
    for (const d of hostHealth({ runs: history.runs.slice(-HEALTH_RUNS), quarantines, now: iso(now) })) {
      if (d.type === "quarantine") quarantines.push({ host: d.host, from: iso(now) });
      else if (d.type === "readmit") quarantines.find((q) => q.host === d.host && q.to === undefined)!.to = iso(now);
      else if (![...jobs.values()].some((q) => q.onlyHost === d.host && q.startedAt === undefined)) {
        const { baselineSha: _b, baselineCherryPicks: _p, ...job } = d.run.job;
        enqueue({ ...job, purpose: "retry", attempt: CANARY_ATTEMPTS + ++canaries }, undefined, undefined, d.host);
      }
    }
  };

  const callEngine = (): void => {
    checkHosts();
    // A GPU that a queued job is about to take is not free for an extra probe.
    const free = Math.max(1, gpus.filter((g) => g === undefined).length - queue.length);
    const base = {
      suite,
      rebaselines: [],
      parallelism: free,
      capabilities: { cherryPick: o.cherryPick },
      hosts: fleetHosts(o),
      ...(quarantines.length ? { quarantines: quarantines.map((q) => ({ ...q })) } : {}),
    };
    const input = history.windowed(base);
    const decisions = engine(input);
    onCall?.({ input, decisions, full: () => history.full(base), windowLength: history.windowLength() });
    history.advance(input);
    for (const d of decisions) {
      if (d.type === "run") enqueue(d.job, d.investigation, d.avoidHosts);
      else if (d.type === "flaky") flaky.add(`${d.sha}:${d.tests.join(",")}`);
      else if (d.type === "report") {
        const key = `${d.kind}:${d.sha}`;
        if (!reports.has(key)) reports.set(key, { decision: d, at: now });
      } else if (!history.declared.has(d.culprit)) {
        history.declare(d.culprit);
        regressions.push({ decision: d, at: now });
        events.push({ at: now + o.revertDelayMin, kind: "revert", culprit: d.culprit });
      }
    }
    startJobs();
  };

  const bySha = (sha: string): SimCommit => history.commit(sha);
  for (let e = events.pop(); e; e = events.pop()) {
    now = e.at;
    if (e.kind === "push" || e.kind === "revert") {
      const landed =
        e.kind === "push" ? e.commits.map((c) => land(c)) : [land({ title: revertTitle(bySha(e.culprit).title), revertOf: e.culprit })];
      if (e.kind === "revert") reverts.set(e.culprit, now);
      for (const job of planLandedJobs(landed)) enqueue(job);
    } else {
      const q = jobs.get(e.id)!;
      gpus[q.gpu!] = undefined;
      const window = {
        start: q.startedAt!,
        end: now,
        gpuIndex: q.gpu!,
        jobFactor: Math.exp((o.noise / 3) * rng.normal()),
        ...(q.fastFailed ? { fastFailed: true } : {}),
      };
      const picks = (list: string[] | undefined) => (list ?? []).map(bySha);
      const run: RunRecord = { job: q.job, result: synthesize(bySha(q.job.sha), o, rng, window, picks(q.job.cherryPicks)) };
      if (q.job.baselineSha) run.baselineResult = synthesize(bySha(q.job.baselineSha), o, rng, window, picks(q.job.baselineCherryPicks));
      history.record(e.id, run);
    }
    callEngine();
  }
  return {
    options: o,
    chain: history.chain,
    runs: history.runs,
    jobs,
    regressions,
    reverts,
    flaky,
    reports: [...reports.values()],
    quarantines,
    endedAt: now,
  };
}

export function runSimulation(options: Partial<SimOptions> = {}): SimulationReport {
  return summarize(simulate(options));
}

/** A binary min-heap on (time, insertion order), so simultaneous events replay in a fixed order. */
class EventQueue {
  private readonly heap: Event[] = [];
  private seq = 0;

  push(e: EventBody): void {
    this.heap.push({ ...e, seq: this.seq++ });
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): Event | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length && last) {
      this.heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.heap.length && this.less(l, m)) m = l;
        if (r < this.heap.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    [this.heap[a], this.heap[b]] = [this.heap[b]!, this.heap[a]!];
  }
}
