/** Addresses of the dashboard's pages, for the app's own links and for texts Sheriff posts on GitHub. */
export const DASHBOARD_PREFIX = "/sheriff";

export function repoPath(repo: string): string {
  const [owner, name] = repo.split("/");
  return `${DASHBOARD_PREFIX}/${encodeURIComponent(owner ?? "")}/${encodeURIComponent(name ?? "")}`;
}

/** A commit's decision page; `suite` scrolls to that suite's verdict. */
export function commitPath(repo: string, sha: string, suite?: string): string {
  return `${repoPath(repo)}/commit/${sha}${suite ? `#suite-${encodeURIComponent(suite)}` : ""}`;
}

export function benchmarkPath(repo: string, suite: string, benchmark?: string): string {
  return `${repoPath(repo)}/bench/${encodeURIComponent(suite)}${benchmark ? `?benchmark=${encodeURIComponent(benchmark)}` : ""}`;
}

/** The decision page's full address. */
export function decisionUrl(publicUrl: string, repo: string, sha: string, suite?: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${commitPath(repo, sha, suite)}`;
}

/** A request Sheriff is about to send to GitHub, as Octokit describes it (route template and parameters). */
export interface OutgoingRequest {
  method: string;
  url: string;
  owner?: unknown;
  repo?: unknown;
  body?: unknown;
  head?: unknown;
  head_sha?: unknown;
  details_url?: unknown;
}

/** What Sheriff writes about a culprit: a revert PR's first line, and its comments on the original PR. */
const REVERT_BODY = /^This reverts commit ([0-9a-f]{40})\b[\s\S]*?regressed `([^`]+)`/;
const CULPRIT_COMMENT = /Sheriff (?:found that (?:this PR's commit )?|was asked to revert )([0-9a-f]{7,40})(?: regressed `| \(`)([^`]+)`/;

function linkLine(url: string): string {
  return `\n\n[Why Sheriff decided this: the decision page](${url})`;
}

/**
 * The same request with a link to its verdict's decision page: revert PR bodies and Sheriff's
 * comments about a culprit get a line at the end, its check runs a `details_url`. Null when the
 * request is not one of those (or already links).
 */
export function withDecisionLink(request: OutgoingRequest, publicUrl: string): Partial<OutgoingRequest> | null {
  if (request.method !== "POST" || typeof request.owner !== "string" || typeof request.repo !== "string") return null;
  const repo = `${request.owner}/${request.repo}`;
  const body = typeof request.body === "string" ? request.body : null;
  if (
    request.url === "/repos/{owner}/{repo}/pulls" &&
    body &&
    typeof request.head === "string" &&
    request.head.startsWith("sheriff/revert-")
  ) {
    const found = REVERT_BODY.exec(body);
    return found && !body.includes(publicUrl) ? { body: body + linkLine(decisionUrl(publicUrl, repo, found[1]!, found[2])) } : null;
  }
  if (request.url === "/repos/{owner}/{repo}/issues/{issue_number}/comments" && body) {
    const found = CULPRIT_COMMENT.exec(body);
    return found && !body.includes(publicUrl) ? { body: body + linkLine(decisionUrl(publicUrl, repo, found[1]!, found[2])) } : null;
  }
  if (request.url === "/repos/{owner}/{repo}/check-runs" && typeof request.head_sha === "string" && request.details_url === undefined)
    return { details_url: decisionUrl(publicUrl, repo, request.head_sha) };
  return null;
}

export function ledgerPath(repo: string): string {
  return `${repoPath(repo)}/ledger`;
}
