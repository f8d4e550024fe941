// Simulator time against stream length: one seed, default options but the commit count.
//   npm run build && node bench/sim/scale.mjs [--sizes 1000,5000,20000] [--seed 1] [--json out.json]
//     [--dist <another build's dist/>] [--before <an earlier output of this script, kept as `before`>]
// Prints and writes seconds per 1k commits at each size; flat figures mean the stream costs linear time.
import os from "node:os";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";

function flag(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const here = new URL(".", import.meta.url).pathname;
const day = new Date().toISOString().slice(0, 10);
const sizes = flag("sizes", "1000,5000,20000").split(",").map(Number);
const seed = Number(flag("seed", "1"));
const out = flag("json", `${here}scale-results-${day}.json`);
const dist = resolve(flag("dist", `${here}../../dist`));
const before = flag("before");
const { simulate } = await import(`${dist}/dev/sim/index.js`);

const results = [];
for (const commits of sizes) {
  const started = performance.now();
  const trace = simulate({ commits, seed });
  const seconds = (performance.now() - started) / 1000;
  const row = { commits, seconds: +seconds.toFixed(2), secondsPer1kCommits: +((seconds * 1000) / commits).toFixed(3), runs: trace.runs.length };
  console.log(JSON.stringify(row));
  results.push(row);
}
const report = {
  generatedAt: new Date().toISOString(),
  date: day,
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
  seed,
  results,
  ...(before ? { before: JSON.parse(readFileSync(before, "utf8")) } : {}),
};
writeFileSync(out, `${JSON.stringify(report, null, 1)}\n`);
console.log(`wrote ${out}`);
