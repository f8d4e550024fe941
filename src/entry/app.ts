import type { ApplicationFunction, Probot } from "probot";
import { classifyPush } from "../core/landed.js";
import type { PipelineDeps } from "../flows/deps.js";
import { CHECK_NAME } from "../adapters/github/checks.js";
import {
  checkRunPayloadSchema,
  mergedPullPayloadSchema,
  pushPayloadSchema,
  workflowRunPayloadSchema,
  type RepositoryPayload,
} from "../model/webhooks.js";
import { formatZodIssues } from "../model/zod.js";
import { PERMISSION_EVENTS, type PermissionEvent } from "./permissionEvents.js";

function repoRef(repository: RepositoryPayload, installationId: number, branch = repository.default_branch) {
  return { owner: repository.owner.login, repo: repository.name, installationId, cloneUrl: repository.clone_url, branch };
}

export interface SheriffHooks {
  /** Comment commands; wired when the commands module is present. */
  onIssueComment?: (payload: unknown, deliveryId: string) => Promise<void>;
  /** A collaborator, team or organization membership change: cached permissions it reaches are dropped. */
  onPermissionChange?: (event: PermissionEvent, payload: unknown, deliveryId: string) => Promise<void>;
}

/**
 * Wires webhooks to the flow. Handlers only validate and enqueue: the work happens in the
 * control queue, so a crash after the 200 loses nothing and a redelivery enqueues nothing twice.
 */
export function sheriffApp(deps: PipelineDeps, hooks: SheriffHooks = {}): ApplicationFunction {
  return (app: Probot) => {
    const reject = (event: string, id: string, error: { issues: string[] }) =>
      app.log.error({ delivery: id, event, issues: error.issues }, `malformed ${event} webhook ignored`);

    app.on("push", async (context) => {
      const parsed = pushPayloadSchema.safeParse(context.payload);
      if (!parsed.success) return reject("push", context.id, { issues: formatZodIssues(parsed.error) });
      const classified = classifyPush(parsed.data);
      if (classified.kind === "ignored") {
        context.log.debug({ delivery: context.id, reason: classified.reason }, "push ignored");
        return;
      }
      const { push } = classified;
      await deps.queues.addControl({
        type: "intake",
        repo: { owner: push.owner, repo: push.repo, installationId: push.installationId, cloneUrl: push.cloneUrl, branch: push.branch },
        repoId: push.repoId,
        defaultBranch: push.defaultBranch,
        before: push.before,
        after: push.after,
        forced: push.forced,
        deliveryId: context.id,
      });
    });

    app.on("workflow_run.completed", async (context) => {
      const parsed = workflowRunPayloadSchema.safeParse(context.payload);
      if (!parsed.success) return reject("workflow_run", context.id, { issues: formatZodIssues(parsed.error) });
      const { workflow_run: run, repository, installation } = parsed.data;
      await deps.queues.addControl({
        type: "actions-run",
        repo: repoRef(repository, installation.id),
        runId: run.id,
        runAttempt: run.run_attempt,
        headSha: run.head_sha,
      });
    });

    // "Re-run" on Sheriff's check run runs the commit's suites again.
    app.on("check_run.rerequested", async (context) => {
      const parsed = checkRunPayloadSchema.safeParse(context.payload);
      if (!parsed.success) return reject("check_run", context.id, { issues: formatZodIssues(parsed.error) });
      const { check_run: run, repository, installation } = parsed.data;
      if (run.name !== CHECK_NAME) return;
      await deps.queues.addControl({
        type: "rerun",
        repo: repoRef(repository, installation.id),
        sha: run.head_sha,
        suites: [],
        requestId: context.id,
      });
    });

    // Merged PRs land through the push that follows; the merge is noted so `explain` can tell the story.
    app.on("pull_request.closed", async (context) => {
      const parsed = mergedPullPayloadSchema.safeParse(context.payload);
      if (!parsed.success) return reject("pull_request", context.id, { issues: formatZodIssues(parsed.error) });
      if (!parsed.data.pull_request.merged || !parsed.data.pull_request.merge_commit_sha) return;
      const { pull_request: pr, repository } = parsed.data;
      await deps.ledger.note(`${repository.owner.login}/${repository.name}`, {
        kind: "merged",
        sha: pr.merge_commit_sha!,
        text: `#${pr.number} "${pr.title}" by @${pr.user.login} merged into ${pr.base.ref}`,
      });
    });

    if (hooks.onIssueComment) {
      const onComment = hooks.onIssueComment;
      app.on("issue_comment", async (context) => onComment(context.payload, context.id));
    }

    if (hooks.onPermissionChange) {
      const onChange = hooks.onPermissionChange;
      for (const event of PERMISSION_EVENTS) app.on(event, async (context) => onChange(event, context.payload, context.id));
    }
  };
}
