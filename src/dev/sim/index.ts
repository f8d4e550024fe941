/** The simulator's public surface: `sheriff simulate` calls `simulateCli`; tests and benches call `runSimulation`. */
export { runSimulation, simulate } from "./driver.js";
export { simulateCli } from "./cli.js";
export type { SimulationReport, CulpritOutcome } from "./metrics.js";
export { DEFAULT_OPTIONS, type SimOptions } from "./model.js";
