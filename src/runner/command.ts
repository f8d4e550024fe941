import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { handOver, JOB_TOKEN_VAR, jobEnv, killJob, makeScratch, newJobToken, type SuiteUser } from "./contain.js";
import {
  InvalidResultError,
  parseSuiteResult,
  RESULT_SCHEMA_VERSION,
  resultMismatch,
  type RunStatus,
  type SuiteResult,
} from "../model/result.js";

const LOG_TAIL_BYTES = 16 * 1024;

export interface ChildRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

/** How long the output pipe may stay open after the job's processes were killed (a holder that escaped the scan). */
const PIPE_GRACE_MS = 2000;

export interface ChildOptions {
  cwd: string;
  /** The child's whole environment (build it with `jobEnv`): nothing of the worker's is added. */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Run as this user instead of the worker's (SHERIFF_SUITE_USER). */
  user?: SuiteUser;
}

/**
 * Runs `sh -c command` in its own process group, its processes marked with a job token. When
 * the shell exits or the time limit passes, every process of the job is killed (the group, and
 * whatever left it: `setsid`, `nohup ... &`), and reading the output ends even if something
 * still holds the pipe.
 */
export async function runChild(command: string, options: ChildOptions): Promise<ChildRun> {
  const token = await newJobToken();
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], {
      cwd: options.cwd,
      env: { ...options.env, [JOB_TOKEN_VAR]: token },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-LOG_TAIL_BYTES);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, output });
    };
    // Once: the first kill (at the time limit, or when the shell exits) repeats until nothing of the job is left.
    let ended: Promise<void> | undefined;
    const end = () =>
      (ended ??= killJob(token, child.pid, exit ? undefined : child.pid).then(() => {
        grace = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish();
        }, PIPE_GRACE_MS);
      }));
    const timer = setTimeout(() => {
      timedOut = true;
      void end();
    }, options.timeoutMs);
    child.on("error", (err) => {
      keep(Buffer.from(`\n${err.message}\n`));
      if (child.pid === undefined) finish(); // it never started
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      clearTimeout(timer);
      void end();
    });
    // The job ends when its processes are gone, not merely its pipes.
    child.on("close", () => void (ended ?? Promise.resolve()).then(finish));
  });
}

export interface CommandSuiteInput {
  dir: string;
  suite: string;
  command: string;
  sha: string;
  timeoutMs: number;
  /** Variables Sheriff hands this suite (CUDA_VISIBLE_DEVICES); the rest of its environment is `jobEnv`'s. */
  env?: NodeJS.ProcessEnv;
  user?: SuiteUser;
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
 * A suite that exits non-zero has failed, whatever its result file says: a result claiming a
 * clean pass then is not believed (a script that wrote the file and then broke, or a forgery).
 */
function exitContradiction(run: ChildRun, result: SuiteResult): string | null {
  if (run.exitCode === 0) return null;
  const claimsPass = result.status === "completed" && result.tests.every((t) => t.outcome === "pass" || t.outcome === "skip");
  return claimsPass ? `the suite exited with code ${run.exitCode}, but its result says every test passed` : null;
}

/**
 * A command suite passes when it exits 0. It may write a full result to $SHERIFF_RESULT
 * (tests and benchmarks); a result that fails validation, names another suite or commit, or
 * claims a pass the exit code contradicts becomes an `error` run with the reason.
 */
export async function runCommandSuite(input: CommandSuiteInput): Promise<SuiteResult> {
  const scratch = await mkdtemp(join(tmpdir(), "sheriff-result-"));
  const resultPath = join(scratch, "result.json");
  const startedAt = new Date().toISOString();
  try {
    const env = jobEnv(await makeScratch(scratch), {
      ...input.env,
      SHERIFF_RESULT: resultPath,
      SHERIFF_SUITE: input.suite,
      SHERIFF_COMMIT: input.sha,
    });
    await handOver(input.user, [scratch, input.dir]);
    const run = await runChild(input.command, {
      cwd: input.dir,
      timeoutMs: input.timeoutMs,
      env,
      ...(input.user ? { user: input.user } : {}),
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
        const contradiction = resultMismatch({ suite: input.suite, sha: input.sha }, result) ?? exitContradiction(run, result);
        if (contradiction) {
          return {
            ...base,
            status: "error",
            tests: [{ name: input.suite, outcome: "error", message: `$SHERIFF_RESULT: ${contradiction}` }],
            benchmarks: [],
          };
        }
        return { ...result, log: result.log ?? run.output };
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
