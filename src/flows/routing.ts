import type { Ledger } from "../adapters/store/ledger.js";
import { routeGpuJob, type Routing } from "../core/routing.js";
import type { GpuJob } from "../model/jobs.js";
import { repoKey } from "../model/repo.js";

/** Where a host that took `job` stands: run it, hand it back to the queue, or drop it (a canary whose host is gone). */
export async function routeTakenJob(ledger: Ledger, job: GpuJob, host: string, now = new Date()): Promise<Routing> {
  const quarantined = await ledger.isQuarantined(repoKey(job.repo), host);
  return routeGpuJob(job, { host, quarantined }, now);
}
