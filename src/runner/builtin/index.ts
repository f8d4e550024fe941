import { appendFileSync } from "node:fs";
import { hostname } from "node:os";
import type { BUILTIN_SUITES } from "../../model/config.js";
import { RESULT_SCHEMA_VERSION, type SuiteResult } from "../../model/result.js";
import { cudaEventsSuite } from "./cudaEvents.js";
import { halfPrecisionSuite } from "./halfPrecision.js";
import { indexReduceSuite } from "./indexReduce.js";
import { loadAddon } from "./native.js";
import { SuiteRecorder, type Execution, type SuiteFn } from "./suite.js";
import { varlenAttentionSuite } from "./varlenAttention.js";

export type BuiltinSuiteName = (typeof BUILTIN_SUITES)[number];

export const BUILTIN_SUITE_FNS: Record<BuiltinSuiteName, SuiteFn> = {
  "varlen-attention": varlenAttentionSuite,
  "index-reduce": indexReduceSuite,
  "half-precision": halfPrecisionSuite,
  "cuda-events": cudaEventsSuite,
};

export interface InProcessArgs {
  suite: string;
  sha: string;
  /** Path of the libsheriff_kernels.so built from kernels/ at `sha`. */
  lib: string;
  seed: number;
  quick: boolean;
  reps: number;
  /** "cpu-host" forces the host path even with a GPU. */
  execution?: Execution;
  /** Append-only JSON-lines file: which test is running, which finished (read by the parent after a crash). */
  progress?: string;
}

/**
 * Runs one built-in suite in THIS process (the suite child): loads the addon and the kernels
 * library, picks the CUDA or the host path, and returns a complete result. Errors before any
 * test could run (no addon, a library that does not load) give status "error".
 */
export function runBuiltinInProcess(args: InProcessArgs): SuiteResult {
  const startedAt = new Date().toISOString();
  const base = { schema: RESULT_SCHEMA_VERSION, suite: args.suite, commit: args.sha, startedAt } as const;
  const environment: SuiteResult["environment"] = { commit: args.sha, host: hostname() };
  const fn = BUILTIN_SUITE_FNS[args.suite as BuiltinSuiteName];
  const fail = (message: string): SuiteResult => ({
    ...base,
    status: "error",
    finishedAt: new Date().toISOString(),
    tests: [{ name: `${args.suite}/setup`, outcome: "error", message }],
    benchmarks: [],
    environment,
  });
  if (!fn) return fail(`unknown built-in suite "${args.suite}" (known: ${Object.keys(BUILTIN_SUITE_FNS).join(", ")})`);
  let lib;
  let status;
  try {
    const addon = loadAddon();
    lib = addon.load(args.lib);
    status = lib.status();
    const execution: Execution = args.execution === "cpu-host" || !status.cuda ? "cpu-host" : "cuda";
    environment.executor = execution;
    if (execution === "cuda") {
      const info = addon.deviceInfo();
      const dev = info.devices[0];
      if (dev?.name) environment.gpu = dev.name;
      if (info.cudaDriverVersion) environment.cuda = info.cudaDriverVersion;
    }
    const rec = new SuiteRecorder();
    const progress = args.progress;
    if (progress) {
      const test = rec.test.bind(rec);
      rec.test = (name, body) => {
        appendFileSync(progress, `${JSON.stringify({ running: name })}\n`);
        test(name, body);
        appendFileSync(progress, `${JSON.stringify({ test: rec.tests[rec.tests.length - 1] })}\n`);
      };
    }
    fn(
      {
        lib,
        execution,
        seed: args.seed,
        quick: args.quick,
        timing: { warmup: Math.min(10, Math.max(1, Math.floor(args.reps / 5))), reps: args.reps },
      },
      rec,
    );
    return {
      ...base,
      status: "completed",
      finishedAt: new Date().toISOString(),
      tests: rec.tests,
      benchmarks: rec.benchmarks,
      environment,
      log: `${status.message}; kernels library ${args.lib}`,
    };
  } catch (err) {
    return fail((err as Error).message);
  }
}
