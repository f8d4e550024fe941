// GitHub-shaped JSON for CI objects: check runs, commit statuses, workflow runs, artifacts.
import { accountJson, appJson, repoJson, type Urls } from "./shapes.js";
import type { Artifact, CheckRun, CommitStatus, Repo, WorkflowRun } from "./state.js";

const nodeId = (kind: string, id: number | string): string => Buffer.from(`${kind}:${id}`).toString("base64").replace(/=+$/, "");

export function checkRunJson(
  u: Urls,
  r: Repo,
  c: CheckRun,
  headBranch: string | null,
  pulls: Record<string, unknown>[],
): Record<string, unknown> {
  const url = `${u.apiUrl}/repos/${r.fullName}/check-runs/${c.id}`;
  return {
    id: c.id,
    node_id: nodeId("CheckRun", c.id),
    head_sha: c.headSha,
    external_id: c.externalId,
    url,
    html_url: `${u.url}/${r.fullName}/runs/${c.id}`,
    details_url: c.detailsUrl,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    output: { ...c.output, annotations_count: 0, annotations_url: `${url}/annotations` },
    name: c.name,
    check_suite: { id: c.checkSuiteId, head_branch: headBranch, head_sha: c.headSha },
    app: appJson(u),
    pull_requests: pulls,
  };
}

export function statusJson(u: Urls, r: Repo, s: CommitStatus): Record<string, unknown> {
  return {
    url: `${u.apiUrl}/repos/${r.fullName}/statuses/${s.sha}`,
    id: s.id,
    node_id: nodeId("StatusContext", s.id),
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    creator: accountJson(u, s.creator),
  };
}

export function runJson(u: Urls, r: Repo, w: WorkflowRun): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}/actions/runs/${w.id}`;
  return {
    id: w.id,
    name: w.name,
    node_id: nodeId("WorkflowRun", w.id),
    head_branch: w.headBranch,
    head_sha: w.headSha,
    path: w.workflowPath,
    display_title: w.displayTitle,
    run_number: w.runNumber,
    event: w.event,
    status: w.status,
    conclusion: w.conclusion,
    workflow_id: w.workflowId,
    url: api,
    html_url: `${u.url}/${r.fullName}/actions/runs/${w.id}`,
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    artifacts_url: `${api}/artifacts`,
    workflow_url: `${u.apiUrl}/repos/${r.fullName}/actions/workflows/${w.workflowId}`,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
    run_started_at: w.createdAt,
    run_attempt: 1,
    actor: accountJson(u, w.actor),
    triggering_actor: accountJson(u, w.actor),
    pull_requests: [],
    repository: repoJson(u, r),
    head_repository: repoJson(u, r),
  };
}

export function artifactJson(u: Urls, r: Repo, a: Artifact, run: WorkflowRun): Record<string, unknown> {
  const api = `${u.apiUrl}/repos/${r.fullName}/actions/artifacts/${a.id}`;
  return {
    id: a.id,
    node_id: nodeId("Artifact", a.id),
    name: a.name,
    size_in_bytes: a.zip.length,
    url: api,
    archive_download_url: `${api}/zip`,
    expired: false,
    created_at: a.createdAt,
    updated_at: a.createdAt,
    expires_at: new Date(Date.parse(a.createdAt) + 90 * 86400_000).toISOString(),
    workflow_run: { id: run.id, repository_id: r.id, head_repository_id: r.id, head_branch: run.headBranch, head_sha: run.headSha },
  };
}
