// Stress runs outside the matrix: denser culprit streams and flake rates far above the
// targets, to see where the engine's flake protection and search cost give way.
//   npm run build && node bench/sim/stress.mjs      (writes bench/sim/stress-<date>.json, prints the table)
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { runSimulation } from "../../dist/dev/sim/index.js";

const SETS = [
  { name: "dense culprits", base: { commits: 400, culpritRate: 0.05, noise: 0.01, slowdown: 0.05 }, flakeRates: [0.05, 0.15], seeds: 30 },
  { name: "very flaky", base: { commits: 500, culpritRate: 0.02, noise: 0.01, slowdown: 0.05 }, flakeRates: [0.3, 0.5], seeds: 8 },
  { name: "breaks of flaky tests too", base: { commits: 1000, culpritRate: 0.02, noise: 0.01, slowdown: 0.05, breakFlakyTests: true }, flakeRates: [0.05, 0.15], seeds: 10 },
];

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const rows = [];
for (const set of SETS) {
  for (const flakeRate of set.flakeRates) {
    const reports = Array.from({ length: set.seeds }, (_, s) => runSimulation({ ...set.base, flakeRate, seed: s + 1 }));
    const all = reports.flatMap((r) => r.culpritDetails);
    const single = all.filter((c) => c.found && c.singleCulpritRange && c.bound !== undefined);
    rows.push({
      set: set.name,
      ...set.base,
      flakeRate,
      seeds: set.seeds,
      culprits: all.length,
      found: all.filter((c) => c.found).length,
      missedMasked: all.filter((c) => !c.found && c.masked).length,
      falseReverts: reports.reduce((a, r) => a + r.falseReverts.length, 0),
      singleCulpritRanges: single.length,
      jobsWithinBoundPlus2: single.filter((c) => c.jobs <= c.bound + 2).length,
      worstOverBound: Math.max(...single.map((c) => c.jobs - c.bound)),
      flakyTestBreaks: all.filter((c) => c.breaksFlakyTest).length,
      flakyTestBreaksFound: all.filter((c) => c.breaksFlakyTest && c.found).length,
      flakyTestBreaksOverBound: mean(single.filter((c) => c.breaksFlakyTest).map((c) => c.jobs - c.bound)),
    });
    console.error(`${set.name} flake ${flakeRate}: done`);
  }
}
const head = ["set", "commits", "culprit rate", "flake", "seeds", "found", "missed (masked)", "false reverts", "own jobs <= bound+2", "worst jobs - bound", "breaks of flaky tests found", "their jobs - bound, mean"];
const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
for (const r of rows) {
  lines.push(`| ${r.set} | ${r.commits} | ${r.culpritRate * 100}% | ${r.flakeRate * 100}% | ${r.seeds} | ${r.found}/${r.culprits} | ${r.culprits - r.found} (${r.missedMasked}) | ${r.falseReverts} | ${r.jobsWithinBoundPlus2}/${r.singleCulpritRanges} | ${r.worstOverBound} | ${r.flakyTestBreaksFound}/${r.flakyTestBreaks} | ${r.flakyTestBreaksOverBound?.toFixed(1) ?? "-"} |`);
}
console.log(lines.join("\n"));
const day = new Date().toISOString().slice(0, 10);
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${os.platform()} ${os.release()}, Node ${process.version}`;
await writeFile(new URL(`stress-${day}.json`, import.meta.url), JSON.stringify({ generatedAt: new Date().toISOString(), machine, rows }, null, 1) + "\n");
