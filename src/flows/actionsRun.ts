import { randomBytes } from "node:crypto";
import { z } from "zod";
import { readZipEntry, type ZipLimits } from "../adapters/github/zip.js";
import { jobId, jobRequestSchema, type ActionsRunJob, type JobRequest } from "../model/jobs.js";
import { jobResultMismatch, parseSuiteResult } from "../model/result.js";
import type { PipelineDeps } from "./deps.js";
import { acceptResult } from "./results.js";
import { repoKey } from "../model/repo.js";
import { formatZodIssues } from "../model/zod.js";

/** Artifacts the post-land workflow uploads: one per job, holding `run.json`. */
export const RESULT_ARTIFACT_PREFIX = "sheriff-result-";

/** A run.json is a result or two; an artifact much larger than that is not one of ours. */
export const ARTIFACT_LIMITS: ZipLimits = { maxArchiveBytes: 32 << 20, maxEntryBytes: 64 << 20, maxTotalBytes: 64 << 20 };

const runFileSchema = z.object({ job: jobRequestSchema, result: z.unknown(), baselineResult: z.unknown().optional() });

/** The timeline kind of the record of a workflow dispatch. */
export const DISPATCH_NOTE = "dispatch";

/** What identifies one workflow dispatch Sheriff made: its run must be of this workflow, on this ref, and carry the nonce. */
export interface Dispatch {
  jobId: string;
  workflowPath: string;
  ref: string;
  nonce: string;
}

/** `runner.workflow` (a file name in .github/workflows/, or a path) as the `path` GitHub reports for its runs. */
export function workflowFilePath(workflow: string): string {
  return workflow.includes("/") ? workflow : `.github/workflows/${workflow}`;
}

export function newDispatch(job: JobRequest, workflow: string, ref: string): Dispatch {
  return { jobId: jobId(job), workflowPath: workflowFilePath(workflow), ref, nonce: randomBytes(16).toString("hex") };
}

export function dispatchNoteText(d: Dispatch): string {
  return `dispatched ${d.jobId} to ${d.workflowPath}@${d.ref} [${d.nonce}]`;
}

export function parseDispatchNote(text: string): Dispatch | null {
  const m = /^dispatched (\S+) to (\S+)@(\S+) \[([0-9a-f]{32})\]$/.exec(text);
  return m ? { jobId: m[1]!, workflowPath: m[2]!, ref: m[3]!, nonce: m[4]! } : null;
}

/** The dispatch nonce a run's name carries (workflows/post-land-gpu.yml puts it last, in brackets). */
export function runNonce(title: string | null | undefined): string | null {
  return /\[([0-9a-f]{32})\]\s*$/.exec(title ?? "")?.[1] ?? null;
}

export interface RunFacts {
  event: string;
  path: string;
  head_branch: string | null;
  display_title?: string | null;
}

/** Why a workflow run is not the run of this dispatch, or null when it is. */
export function runMismatch(run: RunFacts, dispatch: Dispatch): string | null {
  if (run.event !== "workflow_dispatch") return `it was started by ${run.event}, not by a workflow_dispatch`;
  if (run.path !== dispatch.workflowPath) return `it ran ${run.path}, not ${dispatch.workflowPath}`;
  if (run.head_branch !== dispatch.ref) return `it ran on ${run.head_branch ?? "no branch"}, not ${dispatch.ref}`;
  if (runNonce(run.display_title) !== dispatch.nonce) return "its name does not carry the nonce of the dispatch";
  return null;
}

/**
 * A `workflow_run` completed: if it carries Sheriff's result artifacts, read them (within size
 * limits, run.json only) and feed them into the ledger like any queue worker's result. Only a
 * run Sheriff dispatched counts: the run of the recorded workflow file on the recorded branch,
 * started by workflow_dispatch, whose name carries the nonce recorded for the job in run.json;
 * the result must be for that job's commit and suite.
 */
export async function collectActionsRun(deps: PipelineDeps, job: ActionsRunJob): Promise<{ accepted: number; rejected: string[] }> {
  const { repo } = job;
  const key = repoKey(repo);
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({
    owner: repo.owner,
    repo: repo.repo,
    run_id: job.runId,
    per_page: 100,
  });
  const artifacts = data.artifacts.filter((a) => a.name.startsWith(RESULT_ARTIFACT_PREFIX));
  if (artifacts.length === 0) return { accepted: 0, rejected: [] };
  const { data: run } = await octokit.rest.actions.getWorkflowRun({ owner: repo.owner, repo: repo.repo, run_id: job.runId });
  const rejected: string[] = [];
  let accepted = 0;
  for (const artifact of artifacts) {
    const source = `workflow run ${job.runId} artifact ${artifact.name}`;
    try {
      if (artifact.size_in_bytes > ARTIFACT_LIMITS.maxArchiveBytes) {
        throw new Error(`${source} is ${artifact.size_in_bytes} bytes, over the limit of ${ARTIFACT_LIMITS.maxArchiveBytes}`);
      }
      const download = await octokit.rest.actions.downloadArtifact({
        owner: repo.owner,
        repo: repo.repo,
        artifact_id: artifact.id,
        archive_format: "zip",
      });
      const text = readZipEntry(Buffer.from(download.data as ArrayBuffer), "run.json", ARTIFACT_LIMITS);
      if (!text) throw new Error(`${source} has no run.json`);
      const parsed = runFileSchema.safeParse(JSON.parse(text.toString("utf8")));
      if (!parsed.success) throw new Error(`${source}: ${formatZodIssues(parsed.error).join("; ")}`);
      const dispatched = await dispatchedJob(deps, key, parsed.data.job, run);
      if (typeof dispatched === "string") throw new Error(`${source}: not a run Sheriff dispatched: ${dispatched}`);
      const result = parseSuiteResult(parsed.data.result, source);
      const baselineResult =
        parsed.data.baselineResult === undefined ? undefined : parseSuiteResult(parsed.data.baselineResult, `${source} (baseline)`);
      const mismatch = jobResultMismatch(dispatched, result, baselineResult);
      if (mismatch) throw new Error(`${source}: ${mismatch}`);
      await acceptResult(deps.ledger, deps.queues, repo, { job: dispatched, result, ...(baselineResult ? { baselineResult } : {}) });
      accepted++;
    } catch (err) {
      // One bad artifact must not lose the others; the reason is kept for `explain`.
      rejected.push((err as Error).message);
      await deps.ledger.note(key, { kind: "result-rejected", sha: job.headSha, text: (err as Error).message });
    }
  }
  return { accepted, rejected };
}

/** The job as Sheriff recorded it when it dispatched the run that uploaded `claimed`, or why there is none. */
async function dispatchedJob(deps: PipelineDeps, key: string, claimed: JobRequest, run: RunFacts): Promise<JobRequest | string> {
  const id = jobId(claimed);
  const nonce = runNonce(run.display_title);
  const dispatches = (await deps.ledger.timelineAt(key, [claimed.sha]))
    .filter((e) => e.kind === DISPATCH_NOTE)
    .map((e) => parseDispatchNote(e.text))
    .filter((d): d is Dispatch => d !== null && d.jobId === id);
  if (dispatches.length === 0) return `Sheriff never dispatched job ${id}`;
  const dispatch = dispatches.find((d) => d.nonce === nonce) ?? dispatches[dispatches.length - 1]!;
  const mismatch = runMismatch(run, dispatch);
  if (mismatch) return mismatch;
  const recorded = (await deps.ledger.jobsAt(key, claimed.sha)).find((r) => jobId(r.job) === id);
  return recorded ? recorded.job : `job ${id} is not in the history`;
}
