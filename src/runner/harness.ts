import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { availableParallelism, constants as osConstants, hostname, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { SuiteConfig } from "../model/config.js";
import {
  InvalidResultError,
  parseSuiteResult,
  RESULT_SCHEMA_VERSION,
  resultMismatch,
  type SuiteResult,
  type TestResult,
} from "../model/result.js";
import { runChild } from "./command.js";
import { handOver, jobEnv, makeScratch, suiteUserFromEnv, takeBack, type SuiteUser } from "./contain.js";
import type { SuiteRunner } from "./execute.js";
import { currentGpu, gpuEnv, queryGpu, type GpuSlot } from "./gpus.js";

const execFileAsync = promisify(execFile);

/**
 * Per-commit harness for the built-in kernel suites: a job for commit X tests the kernels as
 * they are at X. In the worktree of X it builds kernels/ (CMake; CUDA when nvcc is there, else
 * the CPU-only library) into a cache keyed by the content of kernels/ at X plus the toolchain,
 * then runs the suite in a child process (`node suiteMain.js child ...`) that dlopen()s THAT
 * library through Sheriff's addon. The child has a time limit and its own process group: a
 * segfault, an abort, an illegal memory access, an OOM kill or a hang becomes a result
 * ("crashed", "timed_out", "error"), never the worker's death.
 */

export interface HarnessOptions {
  /** Root of the build cache (the worker's work dir): `<workDir>/kernels-cache/<key>/libsheriff_kernels.so`. */
  workDir: string;
  /** Build the CUDA kernels: "auto" (when nvcc is found), "on", "off" (CPU-only library). Default $SHERIFF_KERNELS_CUDA or auto. */
  cuda?: "auto" | "on" | "off";
  /** nvcc -gencode flags (CMake SHERIFF_CUDA_GENCODE); default the kernels' own. */
  cudaGencode?: string;
  buildJobs?: number;
  buildTimeoutMs?: number;
  /** The suite child entry (default: suiteMain.js next to this module, i.e. dist/runner/suiteMain.js). */
  entry?: string;
  /** Suite time limit when the suite config has none. */
  timeoutMs?: number;
  seed?: number;
  /** Fewer/smaller cases (Sheriff's own tests). */
  quick?: boolean;
  /** Timed repetitions per benchmark (raw samples). */
  reps?: number;
  /** Force the host path even on a GPU machine. */
  execution?: "cpu-host";
  /** Variables added to the build's and the suite child's environment (which is otherwise `jobEnv`'s). */
  env?: NodeJS.ProcessEnv;
  /** Run the build and the suite child as this user; default SHERIFF_SUITE_USER. */
  user?: SuiteUser;
  log?: (message: string) => void;
}

/** Where the suite child finds Sheriff's addon when the host says (SHERIFF_NATIVE_ADDON). */
function addonEnv(): NodeJS.ProcessEnv {
  return process.env.SHERIFF_NATIVE_ADDON ? { SHERIFF_NATIVE_ADDON: process.env.SHERIFF_NATIVE_ADDON } : {};
}

export interface KernelBuild {
  libPath: string;
  key: string;
  /** True when the library came from the cache (no build ran). */
  cacheHit: boolean;
  cuda: boolean;
  /** How the kernels' content was identified: a git tree id, or a hash of the files. */
  source: string;
}

export class KernelBuildError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = "KernelBuildError";
  }
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string | null> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { cwd, timeout: 60_000, maxBuffer: 8 << 20 });
    return `${stdout}${stderr}`.trim();
  } catch {
    return null;
  }
}

async function findNvcc(): Promise<string | null> {
  const inPath = await run("sh", ["-c", "command -v nvcc"]);
  if (inPath) return inPath.split("\n")[0]!;
  for (const p of ["/usr/local/cuda/bin/nvcc"]) if (existsSync(p)) return p;
  return null;
}

const toolchains = new Map<string, Promise<{ id: string; nvcc: string | null }>>();

/** Identity of the toolchain that a build depends on (part of the cache key). */
function toolchain(cuda: boolean): Promise<{ id: string; nvcc: string | null }> {
  const key = String(cuda);
  let hit = toolchains.get(key);
  if (!hit) {
    hit = (async () => {
      const cmake = (await run("cmake", ["--version"]))?.split("\n")[0] ?? "no cmake";
      const cxx = (await run(process.env.CXX ?? "c++", ["--version"]))?.split("\n")[0] ?? "no c++";
      const nvcc = cuda ? await findNvcc() : null;
      const nvccVersion = nvcc ? ((await run(nvcc, ["--version"]))?.split("\n").pop() ?? "") : "";
      return { id: [cmake, cxx, nvccVersion].join(" | "), nvcc };
    })();
    toolchains.set(key, hit);
  }
  return hit;
}

async function hashTree(root: string): Promise<string> {
  const h = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === "build" || e.name === ".git") continue;
        await walk(p);
      } else if (e.isFile()) {
        h.update(`${relative(root, p)}\0`);
        h.update(await readFile(p));
        h.update("\0");
      }
    }
  };
  await walk(root);
  return h.digest("hex");
}

/** Content id of `dir/kernels`: the git tree id at HEAD when the tree is clean there, else a hash of the files. */
export async function kernelsSourceId(dir: string): Promise<string> {
  const kernels = join(dir, "kernels");
  if (!existsSync(join(kernels, "CMakeLists.txt"))) throw new KernelBuildError(`no kernels/CMakeLists.txt in ${dir}`, "");
  const tree = await run("git", ["rev-parse", "HEAD:kernels"], dir);
  if (tree && /^[0-9a-f]{40,64}$/.test(tree)) {
    const dirty = await run("git", ["status", "--porcelain", "--", "kernels"], dir);
    if (dirty === "") return `git-tree:${tree}`;
  }
  return `files:${await hashTree(kernels)}`;
}

function resolveCuda(opt: HarnessOptions["cuda"]): "auto" | "on" | "off" {
  const v = opt ?? (process.env.SHERIFF_KERNELS_CUDA?.toLowerCase() as HarnessOptions["cuda"]) ?? "auto";
  return v === "on" || v === "off" ? v : "auto";
}

const building = new Map<string, Promise<KernelBuild>>();

/**
 * The kernels library for the checkout in `dir`, from the cache when the same kernels/ content
 * was built before with the same toolchain; otherwise built now (and added to the cache).
 * Every real build appends a line to `<workDir>/kernels-cache/builds.log`.
 */
export async function prepareKernels(dir: string, options: HarnessOptions): Promise<KernelBuild> {
  const source = await kernelsSourceId(dir);
  const mode = resolveCuda(options.cuda);
  const nvcc = mode === "off" ? null : await findNvcc();
  if (mode === "on" && !nvcc) throw new KernelBuildError("SHERIFF_KERNELS_CUDA=on but nvcc was not found", "");
  const cuda = mode === "on" || (mode === "auto" && nvcc !== null);
  const tc = await toolchain(cuda);
  const gencode = cuda ? (options.cudaGencode ?? process.env.SHERIFF_CUDA_GENCODE ?? "default") : "";
  const key = createHash("sha256")
    .update(JSON.stringify({ layout: 1, source, cuda, gencode, toolchain: tc.id }))
    .digest("hex")
    .slice(0, 32);
  const cacheRoot = join(options.workDir, "kernels-cache");
  const entry = join(cacheRoot, key);
  const libPath = join(entry, "libsheriff_kernels.so");
  if (existsSync(libPath)) return { libPath, key, cacheHit: true, cuda, source };
  let pending = building.get(key);
  if (!pending) {
    pending = buildInto(dir, { cacheRoot, entry, libPath, key, cuda, source, gencode, nvcc: tc.nvcc }, options).finally(() =>
      building.delete(key),
    );
    building.set(key, pending);
  }
  const built = await pending;
  return built;
}

async function buildInto(
  dir: string,
  b: {
    cacheRoot: string;
    entry: string;
    libPath: string;
    key: string;
    cuda: boolean;
    source: string;
    gencode: string;
    nvcc: string | null;
  },
  options: HarnessOptions,
): Promise<KernelBuild> {
  await mkdir(b.cacheRoot, { recursive: true });
  const tmp = await mkdtemp(join(b.cacheRoot, `.tmp-${b.key}-`));
  const buildDir = join(tmp, "build");
  const jobs = options.buildJobs ?? (Number(process.env.SHERIFF_BUILD_JOBS) || Math.max(2, availableParallelism()));
  const defs = [
    `-DSHERIFF_KERNELS_CUDA=${b.cuda ? "ON" : "OFF"}`,
    "-DCMAKE_BUILD_TYPE=Release",
    "-DSHERIFF_KERNELS_TESTS=OFF",
    ...(b.cuda && b.nvcc ? [`-DCMAKE_CUDA_COMPILER=${b.nvcc}`] : []),
    ...(b.cuda && b.gencode !== "default" ? [`-DSHERIFF_CUDA_GENCODE=${b.gencode}`] : []),
  ];
  const command = [
    `cmake -S ${q(join(dir, "kernels"))} -B ${q(buildDir)} ${defs.map(q).join(" ")}`,
    `cmake --build ${q(buildDir)} --target sheriff_kernels -j ${jobs}`,
  ].join(" && ");
  options.log?.(`building kernels (${b.cuda ? "CUDA" : "CPU-only"}) for ${b.source} -> ${b.key}`);
  const started = Date.now();
  // CMake runs the commit's own build code: it gets a job's environment, not the worker's.
  const user = options.user ?? (await suiteUserFromEnv());
  const env = jobEnv(await makeScratch(join(tmp, "scratch")), options.env);
  await handOver(user, [tmp]);
  const result = await runChild(command, {
    cwd: dir,
    env,
    timeoutMs: options.buildTimeoutMs ?? 45 * 60_000,
    ...(user ? { user } : {}),
  });
  await takeBack(user, [tmp]);
  await rm(join(tmp, "scratch"), { recursive: true, force: true });
  const built = join(buildDir, "libsheriff_kernels.so");
  if (result.timedOut || result.signal || result.exitCode !== 0 || !existsSync(built)) {
    await rm(tmp, { recursive: true, force: true });
    const why = result.timedOut
      ? "timed out"
      : result.signal
        ? `killed by ${result.signal}`
        : result.exitCode !== 0
          ? `exited with ${result.exitCode}`
          : "produced no libsheriff_kernels.so";
    throw new KernelBuildError(`building kernels/ ${why}`, result.output);
  }
  await copyFile(built, join(tmp, "libsheriff_kernels.so"));
  await writeFile(join(tmp, "build.log"), result.output);
  await writeFile(
    join(tmp, "meta.json"),
    JSON.stringify(
      {
        key: b.key,
        source: b.source,
        cuda: b.cuda,
        gencode: b.gencode,
        seconds: (Date.now() - started) / 1000,
        at: new Date().toISOString(),
      },
      null,
      2,
    ),
  );
  await rm(buildDir, { recursive: true, force: true });
  try {
    await rename(tmp, b.entry);
  } catch {
    // another process finished the same build first: keep theirs
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(b.libPath)) throw new KernelBuildError(`could not install the build into ${b.entry}`, result.output);
    return { libPath: b.libPath, key: b.key, cacheHit: true, cuda: b.cuda, source: b.source };
  }
  await appendFile(
    join(b.cacheRoot, "builds.log"),
    `${new Date().toISOString()} built ${b.key} ${b.source} cuda=${b.cuda} ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
  );
  return { libPath: b.libPath, key: b.key, cacheHit: false, cuda: b.cuda, source: b.source };
}

/** Lines of `<workDir>/kernels-cache/builds.log`: one per real build (evidence for cache hits). */
export async function buildHistory(workDir: string): Promise<string[]> {
  const text = await readFile(join(workDir, "kernels-cache", "builds.log"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean);
}

export function defaultEntry(): string {
  return fileURLToPath(new URL("./suiteMain.js", import.meta.url));
}

interface Progress {
  done: TestResult[];
  running?: string;
}

async function readProgress(path: string): Promise<Progress> {
  const text = await readFile(path, "utf8").catch(() => "");
  const done: TestResult[] = [];
  let running: string | undefined;
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const ev = JSON.parse(line) as { running?: string; test?: TestResult };
      if (ev.running) running = ev.running;
      if (ev.test) {
        done.push(ev.test);
        running = undefined;
      }
    } catch {
      // a line cut by the crash
    }
  }
  return { done, ...(running ? { running } : {}) };
}

/** A shell reports a child killed by signal N as exit code 128+N. */
function signalOfExitCode(code: number | null): string | null {
  if (code === null || code <= 128 || code > 128 + 64) return null;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code - 128);
  return entry ? entry[0] : `signal ${code - 128}`;
}

export interface BuiltinRunInput {
  dir: string;
  suite: string;
  sha: string;
  timeoutMs?: number;
  /** The GPU this job holds (default: the worker slot of the calling job, if any). */
  gpu?: GpuSlot;
}

/** Builds (or reuses) the kernels at the checkout and runs one built-in suite in a child process. */
export async function runBuiltinSuite(input: BuiltinRunInput, options: HarnessOptions): Promise<SuiteResult> {
  const gpu = input.gpu ?? currentGpu();
  const startedAt = new Date().toISOString();
  const gpuInfo = gpu ? await queryGpu(gpu.index) : {};
  const environment: SuiteResult["environment"] = {
    commit: input.sha,
    host: hostname(),
    ...(gpu ? { gpuIndex: gpu.index } : {}),
    ...(gpuInfo.name ? { gpu: gpuInfo.name } : {}),
    ...(gpuInfo.driver ? { driver: gpuInfo.driver } : {}),
  };
  const base = { schema: RESULT_SCHEMA_VERSION, suite: input.suite, commit: input.sha, startedAt } as const;
  const errorResult = (status: SuiteResult["status"], tests: TestResult[], log: string): SuiteResult => ({
    ...base,
    status,
    finishedAt: new Date().toISOString(),
    tests,
    benchmarks: [],
    environment,
    log: log.slice(-60_000),
  });

  let build: KernelBuild;
  try {
    build = await prepareKernels(input.dir, options);
  } catch (err) {
    const log = err instanceof KernelBuildError ? err.log : "";
    return errorResult("error", [{ name: `${input.suite}/build-kernels`, outcome: "error", message: (err as Error).message }], log);
  }

  const scratch = await mkdtemp(join(tmpdir(), "sheriff-suite-"));
  const out = join(scratch, "result.json");
  const progress = join(scratch, "progress.jsonl");
  const timeoutMs = input.timeoutMs ?? options.timeoutMs ?? 30 * 60_000;
  const args = [
    options.entry ?? defaultEntry(),
    "child",
    "--suite",
    input.suite,
    "--sha",
    input.sha,
    "--lib",
    build.libPath,
    "--out",
    out,
    "--progress",
    progress,
    "--seed",
    String(options.seed ?? 20261125),
    "--reps",
    String(options.reps ?? 30),
    ...(options.quick ? ["--quick"] : []),
    ...(options.execution ? ["--execution", options.execution] : []),
  ];
  try {
    // `exec`: node replaces the shell, so a kernel's SIGSEGV/SIGABRT is the child's own signal
    const user = options.user ?? (await suiteUserFromEnv());
    const env = jobEnv(await makeScratch(scratch), {
      ...addonEnv(),
      ...options.env,
      ...gpuEnv(gpu),
      SHERIFF_SUITE: input.suite,
      SHERIFF_COMMIT: input.sha,
    });
    await handOver(user, [scratch]);
    const run = await runChild(`exec ${[process.execPath, ...args].map(q).join(" ")}`, {
      cwd: input.dir,
      timeoutMs,
      env,
      ...(user ? { user } : {}),
    });
    const header = `kernels ${build.cacheHit ? "cache hit" : "built"} ${build.key} (${build.source}, ${build.cuda ? "CUDA" : "CPU-only"})\n`;
    const log = header + run.output;
    const written = await readFile(out, "utf8").catch(() => null);
    if (written !== null && !run.timedOut && !run.signal) {
      try {
        const result = parseSuiteResult(written, `built-in suite ${input.suite}`);
        const mismatch = resultMismatch({ suite: input.suite, sha: input.sha }, result);
        if (mismatch) return errorResult("error", [{ name: `${input.suite}/result`, outcome: "error", message: mismatch }], log);
        return {
          ...result,
          environment: { ...environment, ...result.environment, ...(gpu ? { gpuIndex: gpu.index } : {}) },
          log: `${header}${result.log ? `${result.log}\n` : ""}${run.output}`.slice(-60_000),
        };
      } catch (err) {
        if (!(err instanceof InvalidResultError)) throw err;
        return errorResult("error", [{ name: `${input.suite}/result`, outcome: "error", message: err.message }], log);
      }
    }
    const p = await readProgress(progress);
    const signal = run.signal ?? signalOfExitCode(run.exitCode);
    const status: SuiteResult["status"] = run.timedOut ? "timed_out" : signal ? "crashed" : "error";
    const what = run.timedOut
      ? `timed out after ${Math.round(timeoutMs / 1000)} s`
      : signal
        ? `crashed: killed by ${signal}`
        : `suite process exited with code ${run.exitCode} without a result`;
    const tests: TestResult[] = [
      ...p.done,
      { name: p.running ?? input.suite, outcome: "error", message: p.running ? `${what} while running this test` : what },
    ];
    return errorResult(status, tests, log);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The `builtin` SuiteRunner for `startGpuWorker({runners: {builtin: ...}})` and `executeGpuJob`.
 * On a worker with GPU slots, it pins the child to the job's GPU (CUDA_VISIBLE_DEVICES).
 */
export function createBuiltinRunner(options: HarnessOptions): SuiteRunner {
  return async ({ dir, suite, sha }: { dir: string; suite: SuiteConfig; sha: string }) => {
    if (suite.kind !== "builtin") throw new Error(`suite ${suite.name} is not a built-in suite`);
    const result = await runBuiltinSuite({ dir, suite: suite.builtin, sha, timeoutMs: suite.timeoutSeconds * 1000 }, options);
    return { ...result, suite: suite.name };
  };
}
