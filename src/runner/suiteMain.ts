import { execFileSync } from "node:child_process";
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseConfig } from "../model/configFile.js";
import { BUILTIN_SUITES, CONFIG_PATH, suiteConfigSchema, type SuiteConfig } from "../model/config.js";
import { jobRequestSchema, type GpuJob } from "../model/jobs.js";
import { RepoCache } from "../adapters/git/git.js";
import { type SuiteResult } from "../model/result.js";
import { runBuiltinInProcess } from "./builtin/index.js";
import { runCommandSuite } from "./command.js";
import { suiteUserFromEnv } from "./contain.js";
import { executeGpuJob, runConfiguredCommand } from "./execute.js";
import { GpuSlots, gpuEnv, type GpuSlot } from "./gpus.js";
import { createBuiltinRunner, prepareKernels, runBuiltinSuite, type HarnessOptions } from "./harness.js";
import type { RunRecord } from "../model/engine.js";
import { formatZodIssues } from "../model/zod.js";
import { shaTag } from "../model/sha.js";

/**
 * Two entry points:
 *  - `node dist/runner/suiteMain.js child --suite S --sha X --lib L --out P ...`: the suite child
 *    process the harness starts (loads the kernels library, runs the suite, writes the result).
 *  - `runSuiteCli(argv)`: `sheriff run-suite ...` (the GitHub Actions workflow uses it): builds
 *    kernels/ in a checkout, runs one suite through the same harness, writes the result (or
 *    `{job, result}` with --job, the run.json the workflow uploads).
 */

function childMain(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: "string" },
      sha: { type: "string" },
      lib: { type: "string" },
      out: { type: "string" },
      progress: { type: "string" },
      seed: { type: "string", default: "20261125" },
      reps: { type: "string", default: "30" },
      quick: { type: "boolean", default: false },
      execution: { type: "string" },
    },
  });
  if (!values.suite || !values.sha || !values.lib || !values.out) {
    console.error(
      "usage: suiteMain.js child --suite S --sha X --lib LIB --out RESULT.json [--progress P] [--seed N] [--reps N] [--quick] [--execution cpu-host]",
    );
    return 2;
  }
  const result = runBuiltinInProcess({
    suite: values.suite,
    sha: values.sha,
    lib: values.lib,
    seed: Number(values.seed),
    reps: Number(values.reps),
    quick: values.quick ?? false,
    ...(values.execution === "cpu-host" ? { execution: "cpu-host" as const } : {}),
    ...(values.progress ? { progress: values.progress } : {}),
  });
  writeFileSync(values.out, JSON.stringify(result));
  const failed = result.tests.filter((t) => t.outcome === "fail" || t.outcome === "error").length;
  console.log(
    `${result.suite} @ ${shaTag(result.commit)} [${result.environment.executor ?? "?"}]: ${result.status}, ${result.tests.length - failed} passed/skipped, ${failed} failed, ${result.benchmarks.length} benchmarks`,
  );
  return 0;
}

export const RUN_SUITE_USAGE = `usage: sheriff run-suite --suite NAME [--sha SHA] [--dir DIR] [--job JSON] [--out PATH]
                         [--work-dir DIR] [--cuda auto|on|off] [--gpu INDEX] [--timeout SECONDS] [--quick] [--reps N] [--build-only]
  Builds kernels/ of the checkout DIR (default: .) and runs one suite there (a built-in kernel
  suite, or a suite of .github/sheriff.yml), in a child process with a time limit.
  Writes the result JSON to --out (default result.json); with --job (a JobRequest as JSON),
  writes {job, result} (default run.json), the file the post-land workflow uploads.
  Exit: 0 all tests passed, 1 a test failed or the run did not complete, 2 usage error.`;

async function suiteConfigFor(dir: string, name: string): Promise<SuiteConfig> {
  const text = await readFile(join(dir, CONFIG_PATH), "utf8").catch(() => null);
  if (text !== null) {
    const config = parseConfig(text);
    const found = config.suites.find((s) => s.name === name);
    if (found) return found;
  }
  if ((BUILTIN_SUITES as readonly string[]).includes(name)) {
    return suiteConfigSchema.parse({ kind: "builtin", builtin: name, name, paths: ["kernels/**"] });
  }
  throw new Error(`no suite "${name}" in ${CONFIG_PATH} and no built-in suite of that name (built-in: ${BUILTIN_SUITES.join(", ")})`);
}

/** `sheriff run-suite ...` (argv: the arguments after the subcommand). Resolves to the exit code. */
export async function runSuiteCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        suite: { type: "string" },
        sha: { type: "string" },
        dir: { type: "string", default: "." },
        job: { type: "string" },
        out: { type: "string" },
        "work-dir": { type: "string" },
        cuda: { type: "string" },
        gpu: { type: "string" },
        timeout: { type: "string" },
        quick: { type: "boolean", default: false },
        reps: { type: "string" },
        help: { type: "boolean", default: false },
        "build-only": { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${RUN_SUITE_USAGE}`);
    return 2;
  }
  if (values.help || !values.suite) {
    console.error(RUN_SUITE_USAGE);
    return values.help ? 0 : 2;
  }
  const dir = resolve(values.dir ?? ".");
  const workDir = resolve(values["work-dir"] ?? process.env.SHERIFF_WORK_DIR ?? join(homedir(), ".cache", "sheriff"));
  const cudaOpt = values.cuda === "on" || values.cuda === "off" || values.cuda === "auto" ? values.cuda : undefined;
  if (values["build-only"]) {
    // prime the kernels build cache (e.g. build several commits in parallel before timing anything)
    try {
      const b = await prepareKernels(dir, { workDir, ...(cudaOpt ? { cuda: cudaOpt } : {}), log: (m) => console.log(m) });
      console.log(`kernels ${b.cacheHit ? "cache hit" : "built"}: ${b.libPath} (${b.source}, ${b.cuda ? "CUDA" : "CPU-only"})`);
      return 0;
    } catch (err) {
      console.error(`${(err as Error).message}\n${(err as { log?: string }).log ?? ""}`);
      return 1;
    }
  }
  let job: GpuJob["job"] | undefined;
  if (values.job) {
    const parsed = jobRequestSchema.safeParse(JSON.parse(values.job));
    if (!parsed.success) {
      console.error(`--job is not a JobRequest: ${formatZodIssues(parsed.error).join("; ")}`);
      return 2;
    }
    job = parsed.data;
  }
  const sha = values.sha ?? job?.sha ?? execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
  const cuda = cudaOpt;
  const gpu: GpuSlot | undefined =
    values.gpu !== undefined
      ? { index: Number(values.gpu) }
      : process.env.SHERIFF_GPU_INDEX
        ? { index: Number(process.env.SHERIFF_GPU_INDEX) }
        : undefined;
  let suite: SuiteConfig;
  try {
    suite = await suiteConfigFor(dir, values.suite);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const timeoutMs = (values.timeout ? Number(values.timeout) : suite.timeoutSeconds) * 1000;
  const harness: HarnessOptions = {
    workDir,
    ...(cuda ? { cuda } : {}),
    quick: values.quick ?? false,
    ...(values.reps ? { reps: Number(values.reps) } : {}),
    log: (m: string) => console.log(m),
  };
  if (job) {
    // The same executor as `sheriff worker`: an A/B job alternates two commits, and reverts the
    // engine asks for are cherry-picked, all from the history of the checkout in --dir.
    const limited = { ...suite, timeoutSeconds: Math.ceil(timeoutMs / 1000) };
    const gpuJob = { repo: { owner: "local", repo: basename(dir), installationId: 0, cloneUrl: dir, branch: "HEAD" }, job, suite: limited };
    const runners = { command: runConfiguredCommand, builtin: createBuiltinRunner(harness) };
    const record = await new GpuSlots(gpu ? [gpu] : []).run(() => executeGpuJob(gpuJob, { cache: new RepoCache(workDir), runners }));
    return report(record.result, sha, resolve(values.out ?? "run.json"), record);
  }
  let result: SuiteResult;
  if (suite.kind === "builtin") {
    result = await runBuiltinSuite({ dir, suite: suite.builtin, sha, timeoutMs, ...(gpu ? { gpu } : {}) }, harness);
    result = { ...result, suite: suite.name };
  } else {
    const user = await suiteUserFromEnv();
    result = await runCommandSuite({
      dir,
      suite: suite.name,
      command: suite.command,
      sha,
      timeoutMs,
      env: gpuEnv(gpu),
      ...(user ? { user } : {}),
    });
    if (gpu) result = { ...result, environment: { ...result.environment, gpuIndex: gpu.index } };
  }
  return report(result, sha, resolve(values.out ?? "result.json"));
}

/** Writes the result (or, for a job, run.json = {job, result, baselineResult}) and prints what failed. */
function report(result: SuiteResult, sha: string, out: string, record?: RunRecord): number {
  writeFileSync(out, JSON.stringify(record ?? result, null, 1));
  const failing = result.tests.filter((t) => t.outcome === "fail" || t.outcome === "error");
  console.log(
    `${result.suite} @ ${shaTag(sha)}: ${result.status}, ${result.tests.length} tests (${failing.length} failing), ${result.benchmarks.length} benchmarks -> ${out}`,
  );
  for (const t of failing.slice(0, 20))
    console.log(`  ${t.outcome.toUpperCase()} ${t.name}${t.message ? `: ${t.message.slice(0, 300)}` : ""}`);
  return result.status === "completed" && failing.length === 0 ? 0 : 1;
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg || !existsSync(arg)) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "child") process.exitCode = childMain(rest);
  else if (command === "run-suite") process.exitCode = await runSuiteCli(rest);
  else {
    console.error("usage: suiteMain.js child ... | suiteMain.js run-suite ...");
    process.exitCode = 2;
  }
}
