import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidResultError, parseSuiteResult, RESULT_SCHEMA_VERSION, type RunStatus, type SuiteResult } from "../model/result.js";

const LOG_TAIL_BYTES = 16 * 1024;

export interface ChildRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

/**
 * Runs `sh -c command` in its own process group, so a timeout kills everything it
 * started (a hung kernel launcher, a forked build) and not just the shell.
 */
export function runChild(command: string, options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ChildRun> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-LOG_TAIL_BYTES);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, options.timeoutMs);
    child.on("error", (err) => keep(Buffer.from(`\n${err.message}\n`)));
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, output });
    });
  });
}

export interface CommandSuiteInput {
  dir: string;
  suite: string;
  command: string;
  sha: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** `sh -c` reports a child killed by a signal as exit 128+N; these are the crashes of a kernel test. */
const CRASH_EXITS: Record<number, string> = { 132: "SIGILL", 134: "SIGABRT", 135: "SIGBUS", 136: "SIGFPE", 137: "SIGKILL", 139: "SIGSEGV" };

function crashSignal(run: ChildRun): string | null {
  return run.signal ?? (run.exitCode !== null ? (CRASH_EXITS[run.exitCode] ?? null) : null);
}

function statusOf(run: ChildRun): RunStatus {
  if (run.timedOut) return "timed_out";
  if (crashSignal(run)) return "crashed";
  return "completed";
}

/**
 * A command suite passes when it exits 0. It may write a full result to $SHERIFF_RESULT
 * (tests and benchmarks); a result that fails validation becomes an `error` run with the reason.
 */
export async function runCommandSuite(input: CommandSuiteInput): Promise<SuiteResult> {
  const scratch = await mkdtemp(join(tmpdir(), "sheriff-result-"));
  const resultPath = join(scratch, "result.json");
  const startedAt = new Date().toISOString();
  try {
    const run = await runChild(input.command, {
      cwd: input.dir,
      timeoutMs: input.timeoutMs,
      env: { ...process.env, ...input.env, SHERIFF_RESULT: resultPath, SHERIFF_SUITE: input.suite, SHERIFF_COMMIT: input.sha },
    });
    const finishedAt = new Date().toISOString();
    const base = {
      schema: RESULT_SCHEMA_VERSION,
      suite: input.suite,
      commit: input.sha,
      startedAt,
      finishedAt,
      environment: { commit: input.sha, host: hostname(), executor: "command" },
      log: run.output,
    } as const;
    const written = await readFile(resultPath, "utf8").catch(() => null);
    if (written !== null && statusOf(run) === "completed") {
      try {
        const result = parseSuiteResult(written, `suite ${input.suite} ($SHERIFF_RESULT)`);
        return { ...result, suite: input.suite, commit: input.sha, log: result.log ?? run.output };
      } catch (err) {
        if (!(err instanceof InvalidResultError)) throw err;
        return { ...base, status: "error", tests: [{ name: input.suite, outcome: "error", message: err.message }], benchmarks: [] };
      }
    }
    const status = statusOf(run);
    const passed = status === "completed" && run.exitCode === 0;
    const message = passed
      ? undefined
      : run.timedOut
        ? `timed out after ${Math.round(input.timeoutMs / 1000)} s`
        : crashSignal(run)
          ? `killed by ${crashSignal(run)}`
          : `exited with code ${run.exitCode}`;
    return {
      ...base,
      status,
      tests: [{ name: input.suite, outcome: passed ? "pass" : status === "completed" ? "fail" : "error", ...(message ? { message } : {}) }],
      benchmarks: [],
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
