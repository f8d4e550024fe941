import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChild, runCommandSuite } from "../../src/runner/command.js";
import { JOB_TOKEN_VAR, jobEnv, killLeftovers, suiteUserFromEnv } from "../../src/runner/contain.js";
import { runBuiltinSuite } from "../../src/runner/harness.js";
import { compiledEntry, kernelsRepo, ROOT, SHARED_WORK_DIR, type KernelsRepo } from "./support.js";

/** What the worker process holds that no suite may see. */
const WORKER_SECRETS = {
  APP_ID: "123456",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n-----END RSA PRIVATE KEY-----",
  PRIVATE_KEY_PATH: "/etc/sheriff/key.pem",
  WEBHOOK_SECRET: "hook-secret",
  REDIS_URL: "redis://:pw@127.0.0.1:6379",
  DATABASE_URL: "postgresql://postgres:pw@127.0.0.1:5432/postgres",
  SHERIFF_PREFIX: "sheriff-prod",
  SHERIFF_DB_SCHEMA: "sheriff",
  GITHUB_TOKEN: "ghs_installationtoken",
};

/** Every name a suite's environment may hold. */
const ALLOWED = new Set([
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "LC_ALL",
  "CC",
  "CXX",
  "CUDACXX",
  "CUDA_HOME",
  "CUDA_PATH",
  "LD_LIBRARY_PATH",
  "CUDA_VISIBLE_DEVICES",
  "SHERIFF_GPU_INDEX",
  "SHERIFF_SUITE",
  "SHERIFF_COMMIT",
  "SHERIFF_RESULT",
  "SHERIFF_NATIVE_ADDON",
  JOB_TOKEN_VAR,
  // the shell's own
  "PWD",
  "OLDPWD",
  "SHLVL",
  "_",
]);

const sha = "c".repeat(40);
let dir: string;
const saved: Record<string, string | undefined> = {};

/** Whether a process is still running (a zombie waiting for init to reap it counts as gone). */
function alive(pid: number): boolean {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : null;
  return stat !== null && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

const pidIn = (name: string) => Number(readFileSync(join(dir, name), "utf8").trim());

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sheriff-contain-"));
  for (const [name, value] of Object.entries(WORKER_SECRETS)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});

afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

function expectClean(env: Record<string, string>): void {
  for (const name of Object.keys(WORKER_SECRETS)) expect(env[name], name).toBeUndefined();
  expect(Object.keys(env).filter((name) => !ALLOWED.has(name))).toEqual([]);
  expect(Object.values(env).join("\n")).not.toMatch(/secret|ghs_|redis:|postgresql:/);
  expect(env.HOME).not.toBe(homedir());
  expect(env.HOME!.startsWith(tmpdir())).toBe(true);
}

describe("what a suite's processes get", () => {
  it("a command suite sees the allow-list and its own SHERIFF_* variables, none of the worker's", async () => {
    const result = await runCommandSuite({
      dir,
      suite: "env",
      sha,
      timeoutMs: 10_000,
      env: { CUDA_VISIBLE_DEVICES: "1" },
      command: `node -e 'require("fs").writeFileSync("command-env.json", JSON.stringify(process.env))'`,
    });
    expect(result.tests).toEqual([{ name: "env", outcome: "pass" }]);
    const env = JSON.parse(readFileSync(join(dir, "command-env.json"), "utf8")) as Record<string, string>;
    expectClean(env);
    expect(env).toMatchObject({ SHERIFF_SUITE: "env", SHERIFF_COMMIT: sha, CUDA_VISIBLE_DEVICES: "1" });
    expect(env.SHERIFF_RESULT).toMatch(/result\.json$/);
    expect(env.TMPDIR!.startsWith(dirname(env.HOME!))).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)("runs as SHERIFF_SUITE_USER when the worker is root", async () => {
    const user = await suiteUserFromEnv({ SHERIFF_SUITE_USER: "nobody" });
    const result = await runCommandSuite({
      dir,
      suite: "uid",
      sha,
      timeoutMs: 10_000,
      user: user!,
      command: 'id -u > uid.txt; touch "$HOME/x"',
    });
    expect(result.tests).toEqual([{ name: "uid", outcome: "pass" }]);
    expect(Number(readFileSync(join(dir, "uid.txt"), "utf8"))).toBe(user!.uid);
  });

  it("builds an environment from the allow-list only", () => {
    const env = jobEnv({ home: "/s/home", tmp: "/s/tmp" }, { SHERIFF_SUITE: "x" }, { ...WORKER_SECRETS, PATH: "/bin", LANG: "C.UTF-8" });
    expect(env).toEqual({ PATH: "/bin", LANG: "C.UTF-8", HOME: "/s/home", TMPDIR: "/s/tmp", SHERIFF_SUITE: "x" });
  });

  describe("a built-in suite", () => {
    let repo: KernelsRepo;
    beforeAll(() => {
      repo = kernelsRepo();
    });
    afterAll(() => rmSync(repo.root, { recursive: true, force: true }));

    it("runs its child with a clean environment too", async () => {
      const out = join(dir, "builtin-env.json");
      const result = await runBuiltinSuite(
        { dir: repo.checkout(repo.good), suite: "half-precision", sha: repo.good, timeoutMs: 30_000 },
        {
          workDir: SHARED_WORK_DIR,
          cuda: "off",
          entry: join(ROOT, "test/runner/fixtures/envChild.mjs"),
          env: { SHERIFF_TEST_ENV_OUT: out },
        },
      );
      expect(result.status).toBe("completed");
      const env = JSON.parse(readFileSync(out, "utf8")) as Record<string, string>;
      delete env.SHERIFF_TEST_ENV_OUT;
      expectClean(env);
      expect(env).toMatchObject({ SHERIFF_SUITE: "half-precision", SHERIFF_COMMIT: repo.good });
    }, 300_000);
  });
});

describe("every process of a job ends with it", () => {
  it("a suite that setsid-forks a sleeper holding stdout ends at its time limit, and the sleeper is gone", async () => {
    const started = Date.now();
    const result = await runCommandSuite({
      dir,
      suite: "setsid",
      sha,
      timeoutMs: 500,
      command: "setsid sh -c 'echo $$ > setsid.pid; exec sleep 1000' & sleep 1000",
    });
    expect(result).toMatchObject({ status: "timed_out", tests: [{ outcome: "error", message: "timed out after 1 s" }] });
    // far below the sleeper's 1000 s, with room for a loaded test machine
    expect(Date.now() - started).toBeLessThan(20_000);
    await until(() => !alive(pidIn("setsid.pid")), 2000, "the setsid sleeper to die");
  });

  it("does not wait on the output pipe a setsid child holds after the suite exited", async () => {
    const started = Date.now();
    const result = await runCommandSuite({
      dir,
      suite: "holder",
      sha,
      timeoutMs: 60_000,
      command: "setsid sleep 1000 & echo $! > holder.pid; exit 0",
    });
    expect(result.tests).toEqual([{ name: "holder", outcome: "pass" }]);
    // far below the sleeper's 1000 s, with room for a loaded test machine
    expect(Date.now() - started).toBeLessThan(20_000);
    await until(() => !alive(pidIn("holder.pid")), 2000, "the pipe holder to die");
  });

  it("`nohup sleep 1000 & exit 0` leaves no process", async () => {
    const result = await runCommandSuite({
      dir,
      suite: "nohup",
      sha,
      timeoutMs: 60_000,
      command: "nohup sleep 1000 >/dev/null 2>&1 & echo $! > nohup.pid; exit 0",
    });
    expect(result.tests).toEqual([{ name: "nohup", outcome: "pass" }]);
    expect(alive(pidIn("nohup.pid"))).toBe(false);
  });

  it("a worker that starts after a kill -9 kills what the dead worker's job left, and leaves live jobs alone", async () => {
    // A "worker": Sheriff's runner (compiled) in its own Node process, running a job that forks a setsid sleeper.
    const command = join(dirname(compiledEntry()), "command.js");
    const script = `import(${JSON.stringify(pathToFileURL(command).href)}).then((m) => m.runChild(
      "setsid sh -c 'echo $$ > crashed-sleeper.pid; exec sleep 1000' & echo $$ > crashed-shell.pid; sleep 1000",
      { cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH }, timeoutMs: 600000 }))`;
    const worker = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
    await until(
      () => existsSync(join(dir, "crashed-sleeper.pid")) && existsSync(join(dir, "crashed-shell.pid")),
      10_000,
      "the job to start",
    );
    const live = runChild("sleep 1; echo still here", { cwd: dir, env: { PATH: process.env.PATH }, timeoutMs: 10_000 });
    worker.kill("SIGKILL");
    await new Promise((r) => worker.once("exit", r));
    const leftovers = [pidIn("crashed-sleeper.pid"), pidIn("crashed-shell.pid")];
    expect(leftovers.every(alive)).toBe(true);

    expect(await killLeftovers()).toBeGreaterThanOrEqual(2);
    await until(() => !leftovers.some(alive), 2000, "the leftovers to die");
    const liveRun = await live;
    expect(liveRun).toMatchObject({ exitCode: 0, timedOut: false });
    expect(liveRun.output).toContain("still here");
  });
});
