import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Octokit } from "@octokit/rest";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../src/dev/demo/world.js";
import { jobRequestSchema } from "../../src/model/jobs.js";
import { runCommandSuite } from "../../src/runner/command.js";
import { runConfiguredCommand } from "../../src/runner/execute.js";
import { DATABASE_URL } from "../helpers/database.js";

const exec = promisify(execFile);
const OWNER = "gpu-team";
const REPO = "kernels-on-actions";
const CONFIG = `runner: { mode: actions, workflow: post-land-gpu.yml }
policy: { autoRevert: on }
suites:
  - { name: convert, kind: command, command: "sh test.sh", paths: ["src/**"], timeoutSeconds: 30, thresholds: { retries: 1 } }
`;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "alice",
    GIT_AUTHOR_EMAIL: "alice@x",
    GIT_COMMITTER_NAME: "alice",
    GIT_COMMITTER_EMAIL: "alice@x",
  };
  return (await exec("git", args, { cwd, env })).stdout.trim();
}

/**
 * A self-hosted runner: picks up the workflow runs Sheriff dispatched, runs the suite the way
 * workflows/post-land-gpu.yml does (a checkout of the sha, the suite, run.json = {job, result}),
 * and completes the run with the result artifact.
 */
function fakeRunner(world: World, cloneUrl: string, scratch: string) {
  const done = new Set<number>();
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      for (const run of world.sandbox.workflowRuns(OWNER, REPO)) {
        const id = run.id as number;
        if (run.status !== "queued" || done.has(id)) continue;
        done.add(id);
        const inputs = run.inputs as Record<string, string>;
        const job = jobRequestSchema.parse(JSON.parse(inputs.job!));
        const dir = join(scratch, `run-${id}`);
        await exec("git", ["clone", "--quiet", cloneUrl, dir]);
        await git(dir, "checkout", "--quiet", "--detach", job.sha);
        const result = await runCommandSuite({ dir, suite: job.suite, command: "sh test.sh", sha: job.sha, timeoutMs: 30_000 });
        world.sandbox.startWorkflowRun(OWNER, REPO, id);
        world.sandbox.completeWorkflowRun({
          owner: OWNER,
          repo: REPO,
          runId: id,
          conclusion: result.tests.every((t) => t.outcome === "pass") ? "success" : "failure",
          artifacts: [
            { name: `sheriff-result-${inputs.job_id}`, files: { "run.json": JSON.stringify({ job, result }) } },
            // A broken runner's upload next to the good one: rejected with a reason, the good one still counts.
            ...(done.size === 1
              ? [
                  {
                    name: "sheriff-result-broken",
                    files: { "run.json": JSON.stringify({ job, result: { ...result, status: "exploded" } }) },
                  },
                ]
              : []),
          ],
        });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const running = loop();
  return { dispatched: () => done.size, stop: async () => ((stopped = true), await running) };
}

describe("GPU jobs on GitHub Actions: dispatch, workflow_run, artifact", () => {
  let world: World | undefined;
  let scratch: string | undefined;

  afterEach(async () => {
    await world?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("dispatches the post-land workflow and reverts from the results its artifacts carry", async () => {
    world = await startWorld({
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      databaseUrl: DATABASE_URL,
      log: pino({ level: "silent" }),
      runners: { command: runConfiguredCommand },
    });
    const w = world;
    scratch = await mkdtemp(join(tmpdir(), "sheriff-actions-"));
    const workflow = await readFile(new URL("../../workflows/post-land-gpu.yml", import.meta.url), "utf8");
    await w.sandbox.createRepo(OWNER, REPO, {
      installationId: 11,
      files: {
        ".github/workflows/post-land-gpu.yml": workflow,
        "test.sh": 'grep -q rne src/convert.txt || { echo "bf16 truncates"; exit 1; }\n',
        "src/convert.txt": "rne v1\n",
      },
    });
    w.sandbox.addUser("alice", { permissions: { [`${OWNER}/${REPO}`]: "write" } });
    const token = w.sandbox.userToken("alice");
    const cloneUrl = w.sandbox.cloneUrl(OWNER, REPO, token, "alice");
    const runner = fakeRunner(w, cloneUrl, scratch);
    const work = join(scratch, "alice");
    await exec("git", ["clone", "--quiet", cloneUrl, work]);
    const land = async (message: string, files: Record<string, string>) => {
      for (const [path, content] of Object.entries(files)) await writeFile(join(work, path), content);
      await git(work, "add", "-A");
      await git(work, "commit", "--quiet", "-m", message);
      await git(work, "push", "--quiet", "origin", "HEAD:main");
      return git(work, "rev-parse", "HEAD");
    };
    const settle = async () => {
      const deadline = Date.now() + 120_000;
      while (!(await w.settled()) || w.sandbox.workflowRuns(OWNER, REPO).some((r) => r.status !== "completed")) {
        if (Date.now() > deadline) throw new Error("timed out waiting for Sheriff and the runner");
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    await exec("mkdir", ["-p", join(work, ".github")]);
    await land("Adopt Sheriff", { ".github/sheriff.yml": CONFIG, "src/convert.txt": "rne v2\n" });
    await settle();
    expect(runner.dispatched()).toBe(1);
    const bad = await land("Faster bf16", { "src/convert.txt": "truncate v3\n" });
    await settle();
    await runner.stop();

    const key = `${OWNER}/${REPO}`;
    const runs = await w.deps.ledger.runs(key, "convert");
    expect(runs.length).toBe(runner.dispatched());
    expect(runs.length).toBeGreaterThanOrEqual(4);
    const reverts = await w.deps.ledger.reverts(key);
    expect(reverts).toEqual([expect.objectContaining({ culprit: bad, outcome: "pr-opened" })]);
    const gh = new Octokit({ auth: token, baseUrl: w.sandbox.apiUrl });
    const pr = (await gh.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: reverts[0]!.revertPr! })).data;
    expect(pr.title).toBe('Revert "Faster bf16"');
    expect(pr.body).toContain("bf16 truncates");
    const rejected = (await w.deps.ledger.timeline(key)).filter((e) => e.kind === "result-rejected");
    expect(rejected.map((e) => e.text)).toEqual([expect.stringMatching(/artifact sheriff-result-broken.*status/s)]);
    // Every dispatch named the workflow file and carried a job id that its artifact echoed back.
    for (const run of w.sandbox.workflowRuns(OWNER, REPO)) expect(run.path).toBe(".github/workflows/post-land-gpu.yml");
  }, 180_000);

  it("counts only results of runs it dispatched: a forged artifact of another workflow and a result of another commit are rejected, nothing is reverted", async () => {
    world = await startWorld({
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      databaseUrl: DATABASE_URL,
      log: pino({ level: "silent" }),
      runners: { command: runConfiguredCommand },
    });
    const w = world;
    scratch = await mkdtemp(join(tmpdir(), "sheriff-actions-forged-"));
    const workflow = await readFile(new URL("../../workflows/post-land-gpu.yml", import.meta.url), "utf8");
    const forge =
      "name: forge\non:\n  workflow_dispatch:\n    inputs: { job: { type: string } }\njobs:\n  a: { runs-on: ubuntu-latest, steps: [{ run: 'true' }] }\n";
    await w.sandbox.createRepo(OWNER, REPO, {
      installationId: 11,
      files: {
        ".github/workflows/post-land-gpu.yml": workflow,
        ".github/workflows/forge.yml": forge,
        ".github/sheriff.yml": CONFIG,
        "test.sh": 'grep -q rne src/convert.txt || { echo "bf16 truncates"; exit 1; }\n',
        "src/convert.txt": "rne v1\n",
      },
    });
    // mallory may push and dispatch workflows, like anyone with write access.
    w.sandbox.addUser("mallory", { permissions: { [`${OWNER}/${REPO}`]: "write" } });
    const token = w.sandbox.userToken("mallory");
    const cloneUrl = w.sandbox.cloneUrl(OWNER, REPO, token, "mallory");
    const gh = new Octokit({ auth: token, baseUrl: w.sandbox.apiUrl });
    const work = join(scratch, "mallory");
    await exec("git", ["clone", "--quiet", cloneUrl, work]);
    await writeFile(join(work, "src/convert.txt"), "rne v2\n");
    await git(work, "commit", "--quiet", "-am", "Harmless");
    await git(work, "push", "--quiet", "origin", "HEAD:main");
    const innocent = await git(work, "rev-parse", "HEAD");
    const parent = await git(work, "rev-parse", "HEAD~1");

    const deadline = Date.now() + 60_000;
    const sheriffRun = async () => {
      for (;;) {
        const run = w.sandbox.workflowRuns(OWNER, REPO).find((r) => r.path === ".github/workflows/post-land-gpu.yml");
        if (run) return run;
        if (Date.now() > deadline) throw new Error("Sheriff dispatched nothing");
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const dispatched = await sheriffRun();
    const inputs = dispatched.inputs as Record<string, string>;
    const job = jobRequestSchema.parse(JSON.parse(inputs.job!));
    expect(job.sha).toBe(innocent);
    const at = new Date().toISOString();
    const failing = {
      schema: "sheriff.result/v1",
      suite: job.suite,
      commit: job.sha,
      status: "completed",
      startedAt: at,
      finishedAt: at,
      tests: [{ name: job.suite, outcome: "fail", message: "forged" }],
      benchmarks: [],
      environment: { commit: job.sha },
    };

    // The forgery: another workflow's run uploads Sheriff's artifact name with the job copied from the dispatch.
    await gh.rest.actions.createWorkflowDispatch({
      owner: OWNER,
      repo: REPO,
      workflow_id: "forge.yml",
      ref: "main",
      inputs: { job: inputs.job! },
    });
    const forged = w.sandbox.workflowRuns(OWNER, REPO).find((r) => r.path === ".github/workflows/forge.yml")!;
    w.sandbox.startWorkflowRun(OWNER, REPO, forged.id as number);
    w.sandbox.completeWorkflowRun({
      owner: OWNER,
      repo: REPO,
      runId: forged.id as number,
      artifacts: [{ name: `sheriff-result-${inputs.job_id}`, files: { "run.json": JSON.stringify({ job, result: failing }) } }],
    });

    // Sheriff's own run: a result of another commit next to the honest one.
    const dir = join(scratch, "runner");
    await exec("git", ["clone", "--quiet", cloneUrl, dir]);
    await git(dir, "checkout", "--quiet", "--detach", job.sha);
    const honest = await runCommandSuite({ dir, suite: job.suite, command: "sh test.sh", sha: job.sha, timeoutMs: 30_000 });
    w.sandbox.startWorkflowRun(OWNER, REPO, dispatched.id as number);
    w.sandbox.completeWorkflowRun({
      owner: OWNER,
      repo: REPO,
      runId: dispatched.id as number,
      artifacts: [
        { name: "sheriff-result-other-commit", files: { "run.json": JSON.stringify({ job, result: { ...failing, commit: parent } }) } },
        { name: `sheriff-result-${inputs.job_id}`, files: { "run.json": JSON.stringify({ job, result: honest }) } },
      ],
    });

    const key = `${OWNER}/${REPO}`;
    for (;;) {
      const done = (await w.settled()) && (await w.deps.ledger.runs(key, "convert")).length > 0;
      if (done) break;
      if (Date.now() > deadline) throw new Error("timed out waiting for Sheriff");
      await new Promise((r) => setTimeout(r, 200));
    }
    const rejected = (await w.deps.ledger.timeline(key)).filter((e) => e.kind === "result-rejected").map((e) => e.text);
    expect(rejected).toHaveLength(2);
    expect(rejected).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /artifact sheriff-result-.*not a run Sheriff dispatched: it ran \.github\/workflows\/forge\.yml, not \.github\/workflows\/post-land-gpu\.yml/,
        ),
        expect.stringContaining(`artifact sheriff-result-other-commit: the result is for commit ${parent}, the job for ${innocent}`),
      ]),
    );
    const runs = await w.deps.ledger.runs(key, "convert");
    expect(runs.map((r) => [r.job.sha, r.result.tests.map((t) => t.outcome)])).toEqual([[innocent, ["pass"]]]);
    expect(await w.deps.ledger.reverts(key)).toEqual([]);
  }, 180_000);
});
