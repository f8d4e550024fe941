import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/model/configFile.js";
import type { GpuJob } from "../../src/model/jobs.js";
import { RepoCache } from "../../src/adapters/git/git.js";
import { executeGpuJob, runConfiguredCommand } from "../../src/runner/execute.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { type JobRequest } from "../../src/model/jobs.js";

const repo = new TestRepo();
const workDir = mkdtempSync(join(tmpdir(), "sheriff-exec-"));
const cache = new RepoCache(workDir);
const suite = parseConfig(
  `suites: [{ name: check, kind: command, command: "grep -q ok kernels/status.txt", paths: ["kernels/**"], timeoutSeconds: 10 }]`,
).suites[0]!;

const good = repo.commit("good", { "kernels/status.txt": "ok\n" });
const broken = repo.commit("break it", { "kernels/status.txt": "crash\n" });
const later = repo.commit("unrelated", { "kernels/other.txt": "x\n" });
repo.git(repo.work, "revert", "--no-edit", broken);
const revert = repo.head();
repo.push();

const job = (request: Partial<JobRequest> & { sha: string }): GpuJob => ({
  repo: { owner: "o", repo: "r", installationId: 1, cloneUrl: repo.bare, branch: "main" },
  job: { suite: "check", purpose: "bisect", attempt: 0, ...request },
  suite,
});
const run = (request: Partial<JobRequest> & { sha: string }) =>
  executeGpuJob(job(request), { cache, runners: { command: runConfiguredCommand }, abRounds: 2 });

describe("executing a GPU job at a commit", () => {
  afterAll(() => {
    repo.remove();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("runs the suite on the commit as it is", async () => {
    expect((await run({ sha: good })).result.tests[0]!.outcome).toBe("pass");
    expect((await run({ sha: later })).result.tests[0]!.outcome).toBe("fail");
  });

  it("cherry-picks the reverts the engine asks for, and reports the commit it was asked about", async () => {
    const { result } = await run({ sha: later, cherryPicks: [revert] });
    expect(result.tests[0]!.outcome).toBe("pass");
    expect(result.commit).toBe(later);
  });

  it("turns a pick that does not apply into an error result, not a crash of the worker", async () => {
    const { result } = await run({ sha: good, cherryPicks: [revert] });
    expect(result.status).toBe("error");
    expect(result.tests[0]!.message).toMatch(new RegExp(`cherry-picking ${revert.slice(0, 7)} onto ${good.slice(0, 7)} failed`));
  });

  it("interleaves suspect and baseline in an A/B job, each with its own picks", async () => {
    const record = await run({ sha: later, purpose: "ab", baselineSha: good, cherryPicks: [revert] });
    expect(record.result.tests[0]!.outcome).toBe("pass");
    expect(record.baselineResult!.commit).toBe(good);
    expect(record.baselineResult!.tests[0]!.outcome).toBe("pass");
  });
});
