import type { ApplicationFunction, Probot } from "probot";
import { classifyPush } from "./events/landed.js";
import type { PipelineDeps } from "./pipeline/deps.js";
import { formatZodIssues } from "./results/schema.js";
import { pushPayloadSchema, workflowRunPayloadSchema } from "./webhook/schemas.js";

export interface SheriffHooks {
  /** Comment commands; wired when the commands module is present. */
  onIssueComment?: (payload: unknown, deliveryId: string) => Promise<void>;
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
        repo: { owner: repository.owner.login, repo: repository.name, installationId: installation.id, cloneUrl: repository.clone_url, branch: repository.default_branch },
        runId: run.id,
        headSha: run.head_sha,
      });
    });

    if (hooks.onIssueComment) {
      const onComment = hooks.onIssueComment;
      app.on("issue_comment", async (context) => onComment(context.payload, context.id));
    }
  };
}
