import type { Logger } from "pino";
import { z } from "zod";
import type { RepoCache } from "../adapters/git/git.js";
import type { SuiteConfig } from "../model/config.js";
import { gpuJobSchema } from "../model/jobs.js";
import { formatZodIssues } from "../model/zod.js";
import { killLeftovers } from "./contain.js";
import { executeGpuJob, type SuiteRunner } from "./execute.js";
import { GpuSlots, withGpuIndex, type GpuSlot } from "./gpus.js";

export interface RemoteRunnerOptions {
  /** The app's address (SHERIFF_URL), under which it serves the runner API. */
  url: string;
  /** This host's runner token: all it holds of Sheriff's. */
  token: string;
  cache: RepoCache;
  runners: Partial<Record<SuiteConfig["kind"], SuiteRunner>>;
  log: Logger;
  gpus?: GpuSlot[];
  slots?: number;
  /** How long to wait before asking again when no job waits. */
  idleMs?: number;
  /** How often a running job's lease is renewed (well inside the app's lease of a minute). */
  renewMs?: number;
}

const assignmentSchema = z.object({
  lease: z.object({ jobId: z.string(), token: z.string() }),
  job: gpuJobSchema,
  token: z.string().optional(),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An answer the app gave that asking again will not change (the lease is gone, the report refused). */
class FinalAnswerError extends Error {
  override name = "FinalAnswerError";
}

/**
 * `sheriff runner`: a GPU host that reaches Sheriff only through its runner API. It leases a job,
 * runs it with the short-lived read token the app handed out with it, renews the lease while it
 * runs, and reports the results; the app checks them against the job it leased.
 */
export function startRemoteRunner(options: RemoteRunnerOptions): { close(): Promise<void> } {
  const { log } = options;
  const pool = new GpuSlots(options.gpus ?? [], options.slots ?? 1);
  const base = `${options.url.replace(/\/+$/, "")}/sheriff/runner`;
  let stopped = false;

  async function call(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${base}/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status === 204) return null;
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as unknown;
    const error = `${path}: HTTP ${response.status} ${text.slice(0, 500)}`;
    if (response.status < 500) throw new FinalAnswerError(error);
    throw new Error(error);
  }

  /** Asks until the app answers: a report is GPU time spent, not to be dropped over a restart of the app. */
  async function persist(path: string, body: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(path, body);
      } catch (err) {
        if (err instanceof FinalAnswerError || attempt >= 8 || stopped) throw err;
        log.warn({ path, err: (err as Error).message }, "runner API call failed; trying again");
        await sleep(Math.min(30_000, 500 * 2 ** attempt));
      }
    }
  }

  async function runOne(): Promise<boolean> {
    const answer = await call("lease", {});
    if (answer === null) return false;
    const parsed = assignmentSchema.safeParse(answer);
    if (!parsed.success) throw new Error(`the app's lease answer does not parse: ${formatZodIssues(parsed.error).join("; ")}`);
    const { lease, job, token } = parsed.data;
    const renewal = setInterval(() => {
      call("renew", { lease }).catch((err: Error) => log.warn({ job: lease.jobId, err: err.message }, "lease renewal failed"));
    }, options.renewMs ?? 15_000);
    try {
      const report = await pool
        .run(async (slot) => {
          const record = await executeGpuJob(job, {
            cache: options.cache,
            runners: options.runners,
            ...(token ? { auth: { token } } : {}),
          });
          return {
            result: withGpuIndex(record.result, slot),
            ...(record.baselineResult ? { baselineResult: withGpuIndex(record.baselineResult, slot) } : {}),
          };
        })
        .then(
          (value) => ({ ok: true as const, value }),
          (err: Error) => ({ ok: false as const, reason: err.message }),
        );
      clearInterval(renewal);
      if (report.ok) {
        await persist("report", { lease, ...report.value });
        log.info({ job: lease.jobId, status: report.value.result.status }, "GPU job reported");
      } else {
        await persist("fail", { lease, reason: report.reason });
        log.warn({ job: lease.jobId, err: report.reason }, "GPU job could not run here");
      }
    } finally {
      clearInterval(renewal);
    }
    return true;
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      const worked = await runOne().catch((err: Error) => {
        log.error({ err: err.message }, "runner round failed");
        return false;
      });
      if (!worked && !stopped) await sleep(options.idleMs ?? 2000);
    }
  }

  const loops = killLeftovers()
    .then(
      (killed) => killed > 0 && log.warn({ killed }, "killed processes left by jobs of a runner that died"),
      (err: Error) => log.error({ err: err.message }, "could not look for processes left by a dead runner"),
    )
    .then(() => Promise.all(Array.from({ length: pool.size }, () => loop())));
  return {
    async close() {
      stopped = true;
      await loops;
    },
  };
}
