import type { Queues } from "../adapters/queue/queues.js";
import type { Ledger } from "../adapters/store/ledger.js";
import type { RunRecord } from "../model/engine.js";
import { repoKey, type RepoRef } from "../model/repo.js";

/**
 * Where every result enters the ledger, whichever runner produced it: store it once,
 * then ask for an analysis of its suite (which also refreshes the commit's check run).
 */
export async function acceptResult(ledger: Ledger, queues: Queues, repo: RepoRef, run: RunRecord): Promise<void> {
  const key = repoKey(repo);
  const fresh = await ledger.recordRun(key, run);
  if (fresh) {
    await ledger.note(key, {
      kind: "result",
      sha: run.job.sha,
      suite: run.job.suite,
      text: `${run.job.purpose} #${run.job.attempt}: ${run.result.status}, ${run.result.tests.filter((t) => t.outcome !== "pass" && t.outcome !== "skip").length} failing of ${run.result.tests.length}`,
    });
  }
  const configSha = (await ledger.configSha(key, repo.branch)) ?? run.job.sha;
  await queues.addControl({ type: "analyze", repo, suite: run.job.suite, configSha, sha: run.job.sha });
}
