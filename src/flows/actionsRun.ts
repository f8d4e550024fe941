import { z } from "zod";
import { readZip } from "../adapters/github/zip.js";
import { jobRequestSchema, type ActionsRunJob } from "../model/jobs.js";
import { parseSuiteResult } from "../model/result.js";
import type { PipelineDeps } from "./deps.js";
import { acceptResult } from "./results.js";
import { repoKey } from "../model/repo.js";
import { formatZodIssues } from "../model/zod.js";

/** Artifacts the post-land workflow uploads: one per job, holding `run.json`. */
export const RESULT_ARTIFACT_PREFIX = "sheriff-result-";

const runFileSchema = z.object({ job: jobRequestSchema, result: z.unknown(), baselineResult: z.unknown().optional() });

/**
 * A `workflow_run` of the post-land workflow completed: download its result artifacts,
 * validate them and feed them into the ledger like any queue worker's result.
 */
export async function collectActionsRun(deps: PipelineDeps, job: ActionsRunJob): Promise<{ accepted: number; rejected: string[] }> {
  const { repo } = job;
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({
    owner: repo.owner,
    repo: repo.repo,
    run_id: job.runId,
    per_page: 100,
  });
  const rejected: string[] = [];
  let accepted = 0;
  for (const artifact of data.artifacts.filter((a) => a.name.startsWith(RESULT_ARTIFACT_PREFIX))) {
    const source = `workflow run ${job.runId} artifact ${artifact.name}`;
    try {
      const download = await octokit.rest.actions.downloadArtifact({
        owner: repo.owner,
        repo: repo.repo,
        artifact_id: artifact.id,
        archive_format: "zip",
      });
      const entries = readZip(Buffer.from(download.data as ArrayBuffer));
      const text = entries.get("run.json");
      if (!text) throw new Error(`${source} has no run.json`);
      const parsed = runFileSchema.safeParse(JSON.parse(text.toString("utf8")));
      if (!parsed.success) throw new Error(`${source}: ${formatZodIssues(parsed.error).join("; ")}`);
      const result = parseSuiteResult(parsed.data.result, source);
      const baselineResult =
        parsed.data.baselineResult === undefined ? undefined : parseSuiteResult(parsed.data.baselineResult, `${source} (baseline)`);
      await acceptResult(deps.ledger, deps.queues, repo, { job: parsed.data.job, result, ...(baselineResult ? { baselineResult } : {}) });
      accepted++;
    } catch (err) {
      // One bad artifact must not lose the others; the reason is kept for `explain`.
      rejected.push((err as Error).message);
      await deps.ledger.note(repoKey(repo), { kind: "result-rejected", sha: job.headSha, text: (err as Error).message });
    }
  }
  return { accepted, rejected };
}
