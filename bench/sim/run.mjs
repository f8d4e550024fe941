// Regenerates the committed simulation results from the built engine:
//   npm run build && node bench/sim/run.mjs [--seeds N]
// (equivalently, once the CLI is wired: npm run simulate -- --matrix --json ... --markdown ...)
import { simulateCli } from "../../dist/sim/index.js";

const day = new Date().toISOString().slice(0, 10);
const here = new URL(".", import.meta.url).pathname;
const code = await simulateCli(["--matrix", "--json", `${here}results-${day}.json`, "--markdown", `${here}table-${day}.md`, ...process.argv.slice(2)]);
process.exit(code);
