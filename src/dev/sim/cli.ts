import { writeFile } from "node:fs/promises";
import os from "node:os";
import { runSimulation } from "./driver.js";
import type { SimulationReport } from "./metrics.js";
import { DEFAULT_OPTIONS, type SimOptions } from "./model.js";
import { classTable, formatReport, markdownTable, summarizeCell, summarizeClass, type CellSummary, type ClassSummary } from "./report.js";
import { STREAM_CLASSES } from "./classes.js";

const USAGE = `sheriff simulate [options]
  --commits N          commits to land (default ${DEFAULT_OPTIONS.commits})
  --culprit-rate R     share of commits that are culprits (default ${DEFAULT_OPTIONS.culpritRate})
  --flake-rate R       chance a run shows a spurious flaky-test failure (default ${DEFAULT_OPTIONS.flakeRate})
  --noise R            relative timing noise per sample (default ${DEFAULT_OPTIONS.noise})
  --slowdown R         size of each performance culprit (default ${DEFAULT_OPTIONS.slowdown})
  --gpus N             GPUs running jobs (default ${DEFAULT_OPTIONS.gpus})
  --seed N             PRNG seed (default ${DEFAULT_OPTIONS.seed})
  --rename-every N     rename one test every N commits (default: never)
  --no-cherry-pick     the runner cannot cherry-pick reverts onto a probe (the app's runners can):
                       culprits masked by a reverted crash or break stay unsearchable
  --matrix             run the standard matrix: noise 1%,3% x slowdown 3%,5%,10% x flake 0%,5%,15%
  --classes            run every stream class of a real fleet (bench/sim/README.md), 10 seeds each
  --class NAME         with --classes, only this class (repeatable)
  --seeds N            seeds per matrix cell or class, 1..N (default 3; 10 with --classes)
  --json PATH          write the full report(s) as JSON
  --markdown PATH      with --matrix, write the results table as Markdown
  --check              exit 1 when a target is missed`;

const NUMERIC: Record<string, keyof SimOptions> = {
  "--commits": "commits",
  "--culprit-rate": "culpritRate",
  "--flake-rate": "flakeRate",
  "--noise": "noise",
  "--slowdown": "slowdown",
  "--gpus": "gpus",
  "--seed": "seed",
  "--rename-every": "renameEvery",
};

interface Args {
  options: Partial<SimOptions>;
  matrix: boolean;
  classes: boolean;
  only: string[];
  seeds?: number;
  json?: string;
  markdown?: string;
  check: boolean;
}

function parse(argv: string[]): Args | string {
  const args: Args = { options: {}, matrix: false, classes: false, only: [], check: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === "--matrix") args.matrix = true;
    else if (flag === "--classes") args.classes = true;
    else if (flag === "--class") {
      if (!value) return `${flag} needs a class name`;
      if (!STREAM_CLASSES.some((c) => c.name === value)) return `unknown class ${value}`;
      args.only.push(value);
      i++;
    } else if (flag === "--no-cherry-pick") args.options.cherryPick = false;
    else if (flag === "--check") args.check = true;
    else if (flag === "--json" || flag === "--markdown") {
      if (!value) return `${flag} needs a path`;
      args[flag === "--json" ? "json" : "markdown"] = value;
      i++;
    } else if (flag === "--seeds" || NUMERIC[flag]) {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n < 0) return `${flag} needs a non-negative number`;
      if (flag === "--seeds") args.seeds = Math.max(1, Math.floor(n));
      else (args.options as Record<string, number>)[NUMERIC[flag]!] = n;
      i++;
    } else return `unknown option ${flag}`;
  }
  return args;
}

/** The `sheriff simulate` command: returns the exit code (0 ok, 1 a target missed under --check, 2 bad usage). */
export async function simulateCli(argv: string[], print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    print(USAGE);
    return 0;
  }
  const args = parse(argv);
  if (typeof args === "string") {
    print(`${args}\n\n${USAGE}`);
    return 2;
  }
  if (args.classes) return classesCli(args, argv, print);
  if (!args.matrix) {
    const report = runSimulation(args.options);
    print(formatReport(report));
    if (args.json) await writeFile(args.json, JSON.stringify(report, null, 2) + "\n");
    return args.check && !targetsMet([report]) ? 1 : 0;
  }
  const reports: SimulationReport[] = [];
  const cells: CellSummary[] = [];
  for (const noise of [0.01, 0.03]) {
    for (const slowdown of [0.03, 0.05, 0.1]) {
      for (const flakeRate of [0, 0.05, 0.15]) {
        const cell = Array.from({ length: args.seeds ?? 3 }, (_, s) =>
          runSimulation({ ...args.options, noise, slowdown, flakeRate, seed: s + 1 }),
        );
        reports.push(...cell);
        cells.push(summarizeCell(cell));
        print(`noise ${noise} slowdown ${slowdown} flake ${flakeRate}: done`);
      }
    }
  }
  const table = markdownTable(cells);
  print(table);
  if (args.json) {
    const body = { generatedAt: new Date().toISOString(), machine: machine(), argv, cells, reports };
    await writeFile(args.json, JSON.stringify(body, null, 1) + "\n");
  }
  if (args.markdown) await writeFile(args.markdown, `${table}\n`);
  return args.check && !targetsMet(reports) ? 1 : 0;
}

function machine(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

async function classesCli(args: Args, argv: string[], print: (line: string) => void): Promise<number> {
  const reports: SimulationReport[] = [];
  const classes: ClassSummary[] = [];
  for (const c of STREAM_CLASSES.filter((k) => !args.only.length || args.only.includes(k.name))) {
    const runs = Array.from({ length: args.seeds ?? 10 }, (_, s) => runSimulation({ ...args.options, ...c.options(s + 1), seed: s + 1 }));
    reports.push(...runs);
    classes.push(summarizeClass(c.name, c.what, runs));
    print(`${c.name}: done`);
  }
  const table = classTable(classes);
  print(table);
  if (args.json) {
    const body = { generatedAt: new Date().toISOString(), machine: machine(), argv, classes, reports };
    await writeFile(args.json, JSON.stringify(body, null, 1) + "\n");
  }
  if (args.markdown) await writeFile(args.markdown, `${table}\n`);
  return args.check && classes.some((c) => c.innocentReverts > 0 || c.lost > 0) ? 1 : 0;
}

function targetsMet(reports: SimulationReport[]): boolean {
  return reports.every((r) => {
    const t = r.targets;
    const falseRevertTarget = r.options.flakeRate > 0.05 || t.noFalseRevert;
    return falseRevertTarget && t.everyCorrectnessCulpritFound && t.everySlowdownFound !== false && t.jobsWithinBound;
  });
}
