// Regenerates the committed simulation results from the built engine:
//   npm run build && node bench/sim/run.mjs [--seeds N] [--markdown table.md]
// It is the same as `sheriff simulate --matrix --json bench/sim/results-<date>.json` once the CLI is wired;
// the Markdown table it prints is the one in RESULTS.md.
import { simulateCli } from "../../dist/dev/sim/index.js";

const day = new Date().toISOString().slice(0, 10);
const here = new URL(".", import.meta.url).pathname;
process.exit(await simulateCli(["--matrix", "--json", `${here}results-${day}.json`, ...process.argv.slice(2)]));
