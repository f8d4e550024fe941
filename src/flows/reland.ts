import { patchId } from "../adapters/git/git.js";
import { relandsTitle } from "../core/revert/reland.js";
import { repoKey, type RepoRef } from "../model/repo.js";
import { shortSha } from "../model/sha.js";
import type { PipelineDeps } from "./deps.js";

/** How far back a reverted culprit is looked for when a commit lands it again. */
export const RELAND_LOOKBACK_DAYS = 30;

/**
 * Landed commits that make a reverted culprit's change again, unchanged: its author relanded it as
 * it was, so the revert was most likely wrong, and Sheriff's precision counts it. A title match
 * picks the candidates (one indexed read per push); only those are compared by patch id, in the
 * mirror. Returns the culprits found relanded.
 */
export async function noticeRelands(
  deps: PipelineDeps,
  repo: RepoRef,
  landed: { sha: string; title: string }[],
  now = new Date(),
): Promise<string[]> {
  const key = repoKey(repo);
  const candidates = await deps.ledger.relandCandidates(key, new Date(now.getTime() - RELAND_LOOKBACK_DAYS * 86_400_000));
  const pairs = candidates.flatMap((c) =>
    landed.filter((l) => l.sha !== c.culprit && relandsTitle(c.title, l.title)).map((l) => ({ culprit: c.culprit, sha: l.sha })),
  );
  if (pairs.length === 0) return [];
  const { token } = await deps.access.forInstallation(repo.installationId);
  const mirror = await deps.cache.syncBranch(repo.owner, repo.repo, repo.cloneUrl, repo.branch, { token }, landed.at(-1)!.sha);
  const found: string[] = [];
  for (const { culprit, sha } of pairs) {
    if (found.includes(culprit)) continue;
    const [before, again] = await Promise.all([patchId(mirror, culprit), patchId(mirror, sha)]);
    if (before === null || before !== again) continue;
    const text = `${shortSha(sha)} landed ${shortSha(culprit)}'s change again, unchanged: counted against Sheriff's precision`;
    if (await deps.ledger.recordReland(key, culprit, sha, { kind: "relanded", sha: culprit, text })) {
      deps.log.warn({ repo: key, culprit, sha }, "a reverted culprit was relanded unchanged");
      found.push(culprit);
    }
  }
  return found;
}
