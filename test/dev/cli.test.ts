import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL } from "../helpers/database.js";
import { REDIS_URL } from "../helpers/redis.js";
import { compiledProject } from "../runner/support.js";

/** The built CLIs, as `npm run build` makes them, in a copy of the project whose dist/ is the tests' own. */
let project: string;

beforeAll(() => {
  project = compiledProject();
}, 180_000);

function runCli(
  cli: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync("node", [join(project, "dist", cli), ...args], { encoding: "utf8", stdio: "pipe", timeout: 20_000, env });
    return { status: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { status: number | null; stdout: string; stderr: string };
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("help", () => {
  it("sheriff --help, -h and help print the usage and exit 0; an unknown command exits 2", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const run = runCli("entry/cli.js", [flag]);
      expect(run.status, flag).toBe(0);
      expect(run.stdout).toMatch(/^usage: sheriff <command>/);
    }
    const unknown = runCli("entry/cli.js", ["stat"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^unknown command "stat"/);
  });

  it("sheriff runner without its app address and a long enough token names both, and never echoes the token", () => {
    const run = runCli("entry/cli.js", ["runner"], { PATH: process.env.PATH, SHERIFF_RUNNER_TOKEN: "short-secret-value" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("SHERIFF_URL");
    expect(run.stderr).toContain("SHERIFF_RUNNER_TOKEN");
    expect(run.stderr).not.toContain("short-secret-value");
  });

  it("demo --help and -h print the demo's usage and exit 0, without starting it", () => {
    for (const flag of ["--help", "-h"]) {
      const run = runCli("dev/cli.js", ["demo", flag]);
      expect(run.status, flag).toBe(0);
      expect(run.stdout).toMatch(/^usage: npm run demo/);
    }
    expect(runCli("dev/cli.js", ["--help"]).stdout).toMatch(/^usage: node dist\/dev\/cli\.js <command>/);
  });
});

describe("an interrupted demo", () => {
  let redis: Redis;
  let db: pg.Client;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await redis.quit();
    await db.end();
  });

  const demoPrefixes = async () => new Set((await redis.keys("sheriff-demo-*")).map((k) => k.split(":")[0]!));
  const demoSchemas = async () =>
    new Set(
      (
        await db.query<{ name: string }>(
          "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'sheriff_demo_%'",
        )
      ).rows.map((r) => r.name),
    );
  const added = <T>(before: Set<T>, now: Set<T>) => [...now].filter((x) => !before.has(x));

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`removes its Redis keys, database schema and temporary folder on ${signal}`, async () => {
      const tmp = mkdtempSync(join(tmpdir(), "sheriff-demo-tmp-"));
      mkdirSync(tmp, { recursive: true });
      const [prefixesBefore, schemasBefore] = [await demoPrefixes(), await demoSchemas()];
      const child = spawn("node", [join(project, "dist/dev/cli.js"), "demo"], {
        env: { ...process.env, REDIS_URL, DATABASE_URL, TMPDIR: tmp },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          output += c.toString();
          if (output.includes("\n")) resolve();
        });
        void exited.then(() => reject(new Error(`the demo ended before its first line: ${output}`)));
      });
      expect(output).toMatch(/^Sheriff demo: a GitHub stand-in at/);
      const ours = { prefixes: added(prefixesBefore, await demoPrefixes()), schemas: added(schemasBefore, await demoSchemas()) };
      const dirs = readdirSync(tmp).filter((e) => statSync(join(tmp, e)).isDirectory());
      expect(ours.schemas).toHaveLength(1);
      expect(dirs).toHaveLength(1);

      child.kill(signal);
      expect(await exited, output).toBe(signal === "SIGINT" ? 130 : 143);
      expect(output).toContain(`Interrupted (${signal})`);
      const prefixesNow = await demoPrefixes();
      expect(ours.prefixes.filter((p) => prefixesNow.has(p))).toEqual([]);
      const schemasNow = await demoSchemas();
      expect(ours.schemas.filter((s) => schemasNow.has(s))).toEqual([]);
      expect(readdirSync(tmp).filter((e) => statSync(join(tmp, e)).isDirectory())).toEqual([]);
      rmSync(tmp, { recursive: true, force: true });
    }, 60_000);
  }
});
