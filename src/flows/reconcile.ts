import type { PipelineDeps } from "./deps.js";
import type { WatchedBranch } from "../model/ledger.js";

/** Branches read from the ledger per query: a round's memory does not grow with their number. */
const PAGE = 100;

export interface ReconcileRound {
  checked: number;
  /** Branches whose head on GitHub is not the ledger's: an intake was queued for each. */
  behind: number;
  failed: number;
}

/**
 * Compares each watched branch's head on GitHub with the head the ledger's chain ends at, and
 * queues an intake from the one to the other where they differ: a push whose webhook never came
 * (the app was down, GitHub gave up redelivering) is taken in within one period anyway. The
 * intake measures the range against the ledger, so it records every commit between them.
 */
export async function reconcileBranches(deps: PipelineDeps): Promise<ReconcileRound> {
  const round: ReconcileRound = { checked: 0, behind: 0, failed: 0 };
  let after: { repo: string; branch: string } | null = null;
  for (;;) {
    const page = await deps.ledger.watchedBranches(after, PAGE);
    for (const branch of page) {
      round.checked++;
      try {
        if (await reconcileBranch(deps, branch)) round.behind++;
      } catch (err) {
        round.failed++;
        deps.log.warn({ repo: branch.repo, branch: branch.branch, err: (err as Error).message }, "branch not reconciled this round");
      }
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!;
  }
  if (round.behind > 0 || round.failed > 0) deps.log.info(round, "reconciliation round");
  return round;
}

async function reconcileBranch(deps: PipelineDeps, branch: WatchedBranch): Promise<boolean> {
  const { repo, repoId, defaultBranch } = branch.source;
  const { octokit } = await deps.access.forInstallation(repo.installationId);
  const { data } = await octokit.rest.repos.getBranch({ owner: repo.owner, repo: repo.repo, branch: repo.branch });
  if (data.commit.sha === branch.head) return false;
  deps.log.warn(
    { repo: branch.repo, branch: branch.branch, ledger: branch.head, github: data.commit.sha },
    "branch moved without a push taken in",
  );
  await deps.queues.addControl({
    type: "intake",
    repo,
    repoId,
    defaultBranch,
    before: branch.head,
    after: data.commit.sha,
    forced: false,
    deliveryId: `reconcile-${Date.now()}`,
  });
  return true;
}
