export { landReadiness, checkState, reviewDecisions, type LandInput, type LandReadiness } from "./policy.js";
export {
  createLandQueue,
  landJobId,
  landQueueName,
  renderRevertHistory,
  type LandCancelRequest,
  type LandJobData,
  type LandQueueOptions,
  type LandRequest,
  type LandService,
  type RevertHistory,
  type RevertRecord,
} from "./queue.js";
export {
  createLandWorker,
  DEFAULT_LAND_TIMING,
  requiredChecksFromGitHub,
  type LandOutcome,
  type LandTiming,
  type LandWorker,
  type LandWorkerOptions,
  type RequiredChecksLookup,
} from "./worker.js";
