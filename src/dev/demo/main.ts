import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { destination, pino, type Logger } from "pino";
import { runConfiguredCommand } from "../../runner/execute.js";
import { discoverGpus } from "../../runner/gpus.js";
import { createBuiltinRunner, type HarnessOptions } from "../../runner/harness.js";
import { playStory, printSummary } from "./run.js";
import { startWorld, type World } from "./world.js";
import { DEFAULT_DATABASE_URL } from "../../entry/settings.js";

export const PROJECT_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * The demo's world with its suite runners: built-in kernel suites on the GPU when there is
 * one, else the host execution of the same kernel code against the CPU references.
 */
export async function startDemoWorld(options: {
  log: Logger;
  redisUrl?: string;
  databaseUrl?: string;
  harness?: Partial<HarnessOptions>;
}): Promise<World & { cuda: boolean }> {
  const gpus = await discoverGpus();
  const world = await startWorld({
    redisUrl: options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    log: options.log,
    runners: { command: runConfiguredCommand },
  });
  // The story's flaky smoke test keeps its run counter here.
  const stateDir = join(world.dataDir, "suite-state");
  await mkdir(stateDir, { recursive: true });
  process.env.SHERIFF_DEMO_STATE = stateDir;
  world.runners.builtin = createBuiltinRunner({
    workDir: join(world.dataDir, "work"),
    cuda: gpus.length > 0 ? "auto" : "off",
    quick: true,
    ...options.harness,
  });
  return Object.assign(world, { cuda: gpus.length > 0 });
}

/** The first SIGINT or SIGTERM from now on; `dispose` stops listening. */
export function nextSignal(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  const signals = ["SIGINT", "SIGTERM"] as const;
  let listener: (signal: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    listener = resolve;
  });
  for (const name of signals) process.once(name, listener);
  return {
    signal,
    dispose: () => {
      for (const name of signals) process.off(name, listener);
    },
  };
}

/** The shell's exit status for a process ended by this signal (128 + its number). */
export function interruptedStatus(signal: NodeJS.Signals): number {
  return 128 + (signal === "SIGINT" ? 2 : 15);
}

/**
 * `sheriff demo [--keep]`: the day from the story against the local GitHub stand-in.
 * Exits non-zero when Sheriff did not do exactly what the story expects. Ctrl-C (or SIGTERM)
 * stops it and still removes what it made: Redis keys, database schema, temporary folder.
 */
export async function demoCli(argv: string[]): Promise<number> {
  const keep = argv.includes("--keep");
  const print = (line: string) => console.log(line);
  // Sheriff's structured log goes to a file, so the timeline stays readable.
  const logPath = join(tmpdir(), `sheriff-demo-${process.pid}.log`);
  const world = await startDemoWorld({
    log: pino({ level: process.env.LOG_LEVEL ?? "info" }, destination({ dest: logPath, sync: false })),
  });
  const interrupt = nextSignal();
  try {
    print(
      `Sheriff demo: a GitHub stand-in at ${world.sandbox.url} and Sheriff in one process; suites run ${world.cuda ? "on the GPU" : "on the CPU (host execution of the kernel code against the references)"}.`,
    );
    print(`Sheriff's own log: ${logPath}`);
    const story = playStory(world, PROJECT_ROOT, print).then(async (report) => {
      await printSummary(report, print);
      return report;
    });
    // Interrupted, the story fails as the world closes under it; that is expected, not an error.
    story.catch(() => undefined);
    const ended = await Promise.race([story, interrupt.signal]);
    if (typeof ended === "string") {
      // The story goes on until the process exits, and its Redis and database calls fail as the world
      // closes under it (BullMQ raises some as uncaught errors): expected, so not a crash that skips the cleanup.
      process.on("uncaughtException", () => undefined);
      print(`\nInterrupted (${ended}): removing the demo's Redis keys, database schema and temporary folder.`);
      return interruptedStatus(ended);
    }
    if (keep) {
      print(`\nThe stand-in keeps running at ${world.sandbox.url} (REST API ${world.sandbox.apiUrl}).`);
      print(
        `Sheriff's dashboard: ${world.dashboardUrl}/gpu-team/flash-kernels (a private repository: sign in as mona with the password ${world.sandbox.userToken("mona")})`,
      );
      print(`Its Prometheus metrics: ${world.dashboardUrl.replace(/\/sheriff$/, "")}/metrics`);
      print(
        `Browse it as the maintainer: curl -H "Authorization: token ${world.sandbox.userToken("mona")}" ${world.sandbox.apiUrl}/repos/gpu-team/flash-kernels/pulls?state=all`,
      );
      print("Ctrl-C to stop.");
      await interrupt.signal;
    }
    return ended.problems.length === 0 ? 0 : 1;
  } finally {
    interrupt.dispose();
    await world.close();
  }
}
