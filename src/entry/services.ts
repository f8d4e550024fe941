import type { SheriffHooks } from "./app.js";
import { handleIssueComment, isBot, type IgnoredReason } from "../flows/commands.js";
import { parseCommentCommands } from "../core/commands/grammar.js";
import { issueCommentPayloadSchema } from "../model/comment.js";
import { formatZodIssues } from "../model/zod.js";
import { permissionScopeOf } from "./permissionEvents.js";
import { createPermissionChecker } from "../adapters/github/permissions.js";
import { createLandQueue } from "../flows/landRequest.js";
import type { LandService } from "../model/land.js";
import { createLandWorker, type LandTiming, type LandWorker } from "../flows/land.js";
import { commandActions, ledgerRevertHistory } from "../flows/commandActions.js";
import { startControlWorkers, type ControlConcurrency, type ControlWorkers } from "../flows/controlWorker.js";
import type { PipelineDeps } from "../flows/deps.js";
import { DEFAULT_CONCURRENCY } from "./settings.js";

export type CommentTriage = { kind: "ignored"; reason: IgnoredReason; issues?: string[] } | { kind: "commands"; installationId: number };

/**
 * Whether a comment can hold commands for Sheriff, decided before an installation token is asked
 * for: most comments (edits, deletions, bots, plain conversation) need none.
 */
export function triageComment(payload: unknown, slug: string): CommentTriage {
  const parsed = issueCommentPayloadSchema.safeParse(payload);
  if (!parsed.success) return { kind: "ignored", reason: "invalid-payload", issues: formatZodIssues(parsed.error) };
  const event = parsed.data;
  if (event.action !== "created") return { kind: "ignored", reason: "not-created" };
  if (isBot(event.sender) || isBot(event.comment.user)) return { kind: "ignored", reason: "bot" };
  const { commands, errors } = parseCommentCommands(event.comment.body, slug);
  if (commands.length === 0 && errors.length === 0) return { kind: "ignored", reason: "no-commands" };
  return { kind: "commands", installationId: event.installation.id };
}

export interface AppServices {
  hooks: SheriffHooks;
  land: LandService;
  landWorker: LandWorker;
  controlWorkers: ControlWorkers;
  close(): Promise<void>;
}

/**
 * The app process's moving parts besides the webhook handlers: the control workers, the
 * comment commands with their merge queue, and the land worker. One place, so `sheriff start`,
 * the demo and the end-to-end tests run the same wiring.
 */
export async function startAppServices(
  deps: PipelineDeps,
  options: { landTiming?: Partial<LandTiming>; concurrency?: ControlConcurrency } = {},
): Promise<AppServices> {
  const redis = deps.queues.store;
  // Commands look permissions up only to act: asked of GitHub each time, so a revoked one never acts.
  const permissions = createPermissionChecker({ redis, readCache: false });
  const land = createLandQueue({ redis, history: ledgerRevertHistory(deps) });
  const actions = commandActions(deps);
  const slug = await deps.access.appSlug();
  const landWorker = createLandWorker({
    redis,
    slug,
    log: deps.log,
    octokitFor: async (id) => (await deps.access.forInstallation(id)).octokit,
    ...(options.landTiming ? { timing: options.landTiming } : {}),
  });
  await landWorker.start();
  const controlWorkers = startControlWorkers(deps, options.concurrency ?? DEFAULT_CONCURRENCY);

  const hooks: SheriffHooks = {
    async onIssueComment(payload, deliveryId) {
      const triage = triageComment(payload, slug);
      if (triage.kind === "ignored") {
        if (triage.issues) deps.log.warn({ delivery: deliveryId, issues: triage.issues }, "malformed issue_comment webhook ignored");
        else deps.log.debug({ delivery: deliveryId, reason: triage.reason }, "comment ignored");
        return;
      }
      const { octokit } = await deps.access.forInstallation(triage.installationId);
      const outcome = await handleIssueComment(
        {
          octokit,
          redis,
          slug,
          permissions,
          actions,
          land,
          log: deps.log.child({ delivery: deliveryId }),
          history: async (repo, records) => {
            for (const record of records) await deps.ledger.recordCommand(repo, record);
          },
        },
        payload,
      );
      deps.log.info({ delivery: deliveryId, status: outcome.status }, "comment handled");
    },
    async onPermissionChange(event, payload, deliveryId) {
      const scope = permissionScopeOf(event, payload);
      if (!scope) {
        deps.log.warn({ delivery: deliveryId, event }, `malformed ${event} webhook ignored`);
        return;
      }
      const dropped = await permissions.forgetScope(scope);
      deps.log.info({ delivery: deliveryId, event, ...scope, dropped }, "cached permissions dropped after a membership change");
    },
  };

  return {
    hooks,
    land,
    landWorker,
    controlWorkers,
    async close() {
      await Promise.all([controlWorkers.close(), landWorker.close(), land.close()]);
    },
  };
}
