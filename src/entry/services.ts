import { z } from "zod";
import type { SheriffHooks } from "./app.js";
import { handleIssueComment } from "../flows/commands.js";
import { createPermissionChecker } from "../adapters/github/permissions.js";
import { createLandQueue } from "../flows/landRequest.js";
import type { LandService } from "../model/land.js";
import { createLandWorker, type LandTiming, type LandWorker } from "../flows/land.js";
import { commandActions, ledgerRevertHistory } from "../flows/commandActions.js";
import { startControlWorkers, type ControlConcurrency, type ControlWorkers } from "../flows/controlWorker.js";
import type { PipelineDeps } from "../flows/deps.js";
import { DEFAULT_CONCURRENCY } from "./settings.js";

const installationOf = z.object({ installation: z.object({ id: z.number().int() }) });

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
  const permissions = createPermissionChecker({ redis });
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
      const parsed = installationOf.safeParse(payload);
      if (!parsed.success) {
        deps.log.error({ delivery: deliveryId }, "issue_comment webhook without an installation ignored");
        return;
      }
      const { octokit } = await deps.access.forInstallation(parsed.data.installation.id);
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
