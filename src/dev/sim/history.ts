import { advanceWindow } from "../../core/verdict/window.js";
import type { EngineCarry, EngineInput, RunRecord } from "../../model/engine.js";
import type { JobRequest } from "../../model/jobs.js";
import type { SimCommit } from "./model.js";

/**
 * What the simulator remembers, kept the way the app's store keeps it: the whole chain and every
 * run for the trace, and for the engine only the window `advanceWindow` says is still needed
 * (its commits, the runs and declared culprits of those commits, the jobs in flight) plus the
 * carry. Every operation costs what the window costs, not what the history does.
 */
export class SimHistory {
  readonly chain: SimCommit[] = [];
  readonly runs: RunRecord[] = [];
  /** Jobs queued or running, in the order they were queued. */
  readonly pending = new Map<string, JobRequest>();
  readonly declared = new Set<string>();
  private readonly indexOf = new Map<string, number>();
  private start = 0;
  private windowRuns: RunRecord[] = [];
  private windowDeclared: string[] = [];
  private carry: EngineCarry | undefined;

  land(commit: SimCommit): void {
    this.indexOf.set(commit.sha, this.chain.length);
    this.chain.push(commit);
  }

  commit(sha: string): SimCommit {
    return this.chain[this.indexOf.get(sha)!]!;
  }

  head(): SimCommit | undefined {
    return this.chain[this.chain.length - 1];
  }

  record(id: string, run: RunRecord): void {
    this.pending.delete(id);
    this.runs.push(run);
    this.windowRuns.push(run);
  }

  declare(sha: string): void {
    this.declared.add(sha);
    this.windowDeclared.push(sha);
  }

  /** The engine's input over the window. */
  windowed(base: Omit<EngineInput, "commits" | "runs" | "pending" | "declared" | "carry">): EngineInput {
    const input: EngineInput = {
      ...base,
      commits: this.chain.slice(this.start),
      runs: this.windowRuns,
      pending: [...this.pending.values()],
      declared: this.windowDeclared,
    };
    if (this.carry) input.carry = this.carry;
    return input;
  }

  /** The same over the whole history, as the engine was driven before windows (for comparisons). */
  full(base: Omit<EngineInput, "commits" | "runs" | "pending" | "declared" | "carry">): EngineInput {
    return { ...base, commits: this.chain, runs: this.runs, pending: [...this.pending.values()], declared: [...this.declared] };
  }

  /** Folds what `input` (a `windowed` input) settled into the carry and drops the commits before the new window. */
  advance(input: EngineInput): void {
    const next = advanceWindow(input);
    // Through JSON, as the app's store keeps it between calls.
    this.carry = next.carry && (JSON.parse(JSON.stringify(next.carry)) as EngineCarry);
    const start = next.from === undefined ? this.start : this.indexOf.get(next.from)!;
    if (start <= this.start) return;
    this.start = start;
    const inWindow = (sha: string) => this.indexOf.get(sha)! >= start;
    this.windowRuns = this.windowRuns.filter((r) => inWindow(r.job.sha));
    this.windowDeclared = this.windowDeclared.filter(inWindow);
  }

  windowLength(): number {
    return this.chain.length - this.start;
  }
}
