// GitHub-shaped JSON for sandbox objects.
import type { CommitInfo, FileChange } from "./git.js";
import type { Account, Comment, Installation, Issue, Label, Reaction, Repo } from "./state.js";

export interface Urls {
  url: string;
  apiUrl: string;
  app: { id: number; slug: string; name: string; owner: Account };
}

const nodeId = (kind: string, id: number | string): string => Buffer.from(`${kind}:${id}`).toString("base64").replace(/=+$/, "");

export function accountJson(u: Urls, a: Account): Record<string, unknown> {
  return {
    login: a.login,
    id: a.id,
    node_id: nodeId(a.type, a.id),
    avatar_url: `${u.url}/avatars/${encodeURIComponent(a.login)}`,
    url: `${u.apiUrl}/users/${encodeURIComponent(a.login)}`,
    html_url: `${u.url}/${encodeURIComponent(a.login)}`,
    type: a.type,
    site_admin: false,
  };
}

export function repoJson(u: Urls, r: Repo): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}`;
  return {
    id: r.id,
    node_id: nodeId("Repository", r.id),
    name: r.name,
    full_name: r.fullName,
    owner: accountJson(u, r.owner),
    private: r.private,
    visibility: r.private ? "private" : "public",
    html_url: `${u.url}/${r.fullName}`,
    url: api,
    clone_url: `${u.url}/${r.fullName}.git`,
    git_url: `${u.url}/${r.fullName}.git`,
    fork: false,
    default_branch: r.defaultBranch,
    archived: false,
    disabled: false,
    created_at: r.createdAt,
    updated_at: r.pushedAt,
    pushed_at: r.pushedAt,
    allow_merge_commit: true,
    allow_squash_merge: true,
    allow_rebase_merge: true,
    pulls_url: `${api}/pulls{/number}`,
    issues_url: `${api}/issues{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
  };
}

export function installationJson(u: Urls, inst: Installation): Record<string, unknown> {
  return {
    id: inst.id,
    account: accountJson(u, inst.account),
    repository_selection: "selected",
    access_tokens_url: `${u.apiUrl}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${u.apiUrl}/installation/repositories`,
    html_url: `${u.url}/settings/installations/${inst.id}`,
    app_id: u.app.id,
    app_slug: u.app.slug,
    target_id: inst.account.id,
    target_type: inst.account.type,
    permissions: installationPermissions(),
    events: ["push", "pull_request", "issue_comment", "check_run", "workflow_run"],
    created_at: inst.createdAt,
    updated_at: inst.createdAt,
    single_file_name: null,
    suspended_at: null,
  };
}

export function installationPermissions(): Record<string, string> {
  return {
    actions: "write",
    checks: "write",
    contents: "write",
    issues: "write",
    metadata: "read",
    pull_requests: "write",
    statuses: "write",
  };
}

export function gitCommitJson(u: Urls, r: Repo, c: CommitInfo): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}`;
  return {
    sha: c.sha,
    node_id: nodeId("Commit", c.sha),
    url: `${api}/git/commits/${c.sha}`,
    html_url: `${u.url}/${r.fullName}/commit/${c.sha}`,
    author: c.author,
    committer: c.committer,
    message: c.message,
    tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}`, html_url: `${u.url}/${r.fullName}/commit/${p}` })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null },
  };
}

/** The REST "commit" object (GET /repos/{o}/{r}/commits/{ref}); files only when given. */
export function commitJson(
  u: Urls,
  r: Repo,
  c: CommitInfo,
  lookup: (email: string) => Account | undefined,
  files?: FileChange[],
): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}`;
  const author = lookup(c.author.email);
  const committer = lookup(c.committer.email);
  const out: Record<string, unknown> = {
    sha: c.sha,
    node_id: nodeId("Commit", c.sha),
    url: `${api}/commits/${c.sha}`,
    html_url: `${u.url}/${r.fullName}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${c.sha}`,
      author: c.author,
      committer: c.committer,
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null },
    },
    author: author ? accountJson(u, author) : null,
    committer: committer ? accountJson(u, committer) : null,
    parents: c.parents.map((p) => ({ sha: p, url: `${api}/commits/${p}`, html_url: `${u.url}/${r.fullName}/commit/${p}` })),
  };
  if (files) {
    const additions = files.reduce((s, f) => s + f.additions, 0);
    const deletions = files.reduce((s, f) => s + f.deletions, 0);
    out.stats = { total: additions + deletions, additions, deletions };
    out.files = files.map((f) => fileJson(u, r, c.sha, f));
  }
  return out;
}

export function fileJson(u: Urls, r: Repo, ref: string, f: FileChange): Record<string, unknown> {
  return {
    sha: f.sha,
    filename: f.filename,
    status: f.status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.changes,
    blob_url: `${u.url}/${r.fullName}/blob/${ref}/${f.filename}`,
    raw_url: `${u.url}/${r.fullName}/raw/${ref}/${f.filename}`,
    contents_url: `${u.apiUrl}/repos/${r.fullName}/contents/${f.filename}?ref=${ref}`,
  };
}

export function labelJson(u: Urls, r: Repo, l: Label): Record<string, unknown> {
  return {
    id: l.id,
    node_id: nodeId("Label", l.id),
    url: `${u.apiUrl}/repos/${r.fullName}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    color: l.color,
    description: l.description,
    default: false,
  };
}

export function reactionSummary(u: Urls, url: string, reactions: Reaction[]): Record<string, unknown> {
  const count = (c: string): number => reactions.filter((r) => r.content === c).length;
  return {
    url: `${url}/reactions`,
    total_count: reactions.length,
    "+1": count("+1"),
    "-1": count("-1"),
    laugh: count("laugh"),
    hooray: count("hooray"),
    confused: count("confused"),
    heart: count("heart"),
    rocket: count("rocket"),
    eyes: count("eyes"),
  };
}

export function reactionJson(u: Urls, x: Reaction): Record<string, unknown> {
  return { id: x.id, node_id: nodeId("Reaction", x.id), user: accountJson(u, x.user), content: x.content, created_at: x.createdAt };
}

export function issueJson(u: Urls, r: Repo, i: Issue): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}/issues/${i.number}`;
  const out: Record<string, unknown> = {
    id: i.id,
    node_id: nodeId(i.pull ? "PullRequestIssue" : "Issue", i.id),
    url: api,
    repository_url: `${u.apiUrl}/repos/${r.fullName}`,
    comments_url: `${api}/comments`,
    labels_url: `${api}/labels{/name}`,
    html_url: `${u.url}/${r.fullName}/${i.pull ? "pull" : "issues"}/${i.number}`,
    number: i.number,
    title: i.title,
    body: i.body,
    user: accountJson(u, i.user),
    labels: labelsOf(u, r, i),
    state: i.state,
    state_reason: i.state === "closed" ? "completed" : null,
    locked: false,
    assignee: null,
    assignees: [],
    comments: 0,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_at: i.closedAt,
    author_association: "NONE",
    reactions: reactionSummary(u, api, i.reactions),
  };
  if (i.pull) {
    const pr = `${u.apiUrl}/repos/${r.fullName}/pulls/${i.number}`;
    out.pull_request = {
      url: pr,
      html_url: `${u.url}/${r.fullName}/pull/${i.number}`,
      diff_url: `${u.url}/${r.fullName}/pull/${i.number}.diff`,
      patch_url: `${u.url}/${r.fullName}/pull/${i.number}.patch`,
      merged_at: i.pull.mergedAt,
    };
  }
  return out;
}

export function labelsOf(u: Urls, r: Repo, i: Issue): Record<string, unknown>[] {
  return i.labels.flatMap((name) => {
    const l = r.labels.get(name.toLowerCase());
    return l ? [labelJson(u, r, l)] : [];
  });
}

export interface Mergeability {
  mergeable: boolean | null;
  mergeable_state: string;
  rebaseable: boolean | null;
  merge_commit_sha: string | null;
}

export function pullJson(
  u: Urls,
  r: Repo,
  i: Issue,
  m: Mergeability,
  counts?: { commits: number; additions: number; deletions: number; changed_files: number },
): Record<string, unknown> {
  const p = i.pull!;
  const api = `${u.apiUrl}/repos/${r.fullName}/pulls/${i.number}`;
  const repo = repoJson(u, r);
  const side = (ref: string, sha: string): Record<string, unknown> => ({
    label: `${r.owner.login}:${ref}`,
    ref,
    sha,
    user: accountJson(u, r.owner),
    repo,
  });
  return {
    url: api,
    id: p.id,
    node_id: nodeId("PullRequest", p.id),
    html_url: `${u.url}/${r.fullName}/pull/${i.number}`,
    diff_url: `${u.url}/${r.fullName}/pull/${i.number}.diff`,
    issue_url: `${u.apiUrl}/repos/${r.fullName}/issues/${i.number}`,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    comments_url: `${u.apiUrl}/repos/${r.fullName}/issues/${i.number}/comments`,
    statuses_url: `${u.apiUrl}/repos/${r.fullName}/statuses/${p.headSha}`,
    number: i.number,
    state: i.state,
    locked: false,
    title: i.title,
    body: i.body,
    user: accountJson(u, i.user),
    labels: labelsOf(u, r, i),
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    draft: p.draft,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    closed_at: i.closedAt,
    merged_at: p.mergedAt,
    merged: p.merged,
    merged_by: p.mergedBy ? accountJson(u, p.mergedBy) : null,
    merge_commit_sha: p.merged ? p.mergeCommitSha : m.merge_commit_sha,
    mergeable: m.mergeable,
    rebaseable: m.rebaseable,
    mergeable_state: m.mergeable_state,
    head: side(p.headRef, p.headSha),
    base: side(p.baseRef, p.baseSha),
    author_association: "NONE",
    auto_merge: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    ...(counts ?? {}),
  };
}

export function commentJson(u: Urls, r: Repo, c: Comment): Record<string, unknown> {
  const url = `${u.apiUrl}/repos/${r.fullName}/issues/comments/${c.id}`;
  return {
    id: c.id,
    node_id: nodeId("IssueComment", c.id),
    url,
    html_url: `${u.url}/${r.fullName}/issues/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${u.apiUrl}/repos/${r.fullName}/issues/${c.issueNumber}`,
    body: c.body,
    user: accountJson(u, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: "NONE",
    performed_via_github_app: c.user.type === "Bot" ? appJson(u) : null,
    reactions: reactionSummary(u, url, c.reactions),
  };
}

export function appJson(u: Urls): Record<string, unknown> {
  return {
    id: u.app.id,
    slug: u.app.slug,
    node_id: nodeId("Integration", u.app.id),
    owner: accountJson(u, u.app.owner),
    name: u.app.name,
    description: "",
    external_url: u.url,
    html_url: `${u.url}/apps/${u.app.slug}`,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    permissions: installationPermissions(),
    events: ["push", "pull_request", "issue_comment", "check_run", "workflow_run"],
  };
}
