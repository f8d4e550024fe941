import type { SheriffConfig } from "../model/config.js";
import { compilePathMatcher, pathSegments } from "../model/glob.js";
import type { CommitInfo } from "../model/commit.js";
import type { LandedCommit } from "../model/engine.js";
import { type JobRequest } from "../model/jobs.js";
import { hasRevertPrefix, revertedSha } from "../model/revertCommit.js";

/** Suites whose path globs match at least one of the changed files, in config order. */
export function suitesTouchedBy(files: string[], config: Pick<SheriffConfig, "suites">): string[] {
  const paths = files.map(pathSegments);
  return config.suites
    .filter((suite) => {
      const matches = compilePathMatcher(suite.paths);
      return paths.some(matches);
    })
    .map((suite) => suite.name);
}

export function toLandedCommit(info: CommitInfo, config: Pick<SheriffConfig, "suites">): LandedCommit {
  return {
    sha: info.sha,
    parent: info.parents[0] ?? "",
    title: info.title,
    author: info.authorName,
    suites: suitesTouchedBy(info.files, config),
    isRevert: hasRevertPrefix(info.title) || revertedSha(info.message) !== null,
  };
}

/**
 * One `landed` job per suite the push touches, at the newest commit that touches it:
 * when commits land faster than GPUs run, older untested commits are left for bisection.
 */
export function planLandedJobs(commits: LandedCommit[]): JobRequest[] {
  const newestBySuite = new Map<string, string>();
  for (const commit of commits) for (const suite of commit.suites) newestBySuite.set(suite, commit.sha);
  return [...newestBySuite].map(([suite, sha]) => ({ sha, suite, purpose: "landed", attempt: 0 }));
}
