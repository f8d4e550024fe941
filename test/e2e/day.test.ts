import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { pino } from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startDemoWorld } from "../../src/dev/demo/main.js";
import { OWNER, playStory, REPO, type DemoReport } from "../../src/dev/demo/run.js";
import { STORY } from "../../src/dev/demo/story.js";
import type { World } from "../../src/dev/demo/world.js";
import { compiledEntry, ensureAddon } from "../runner/support.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x" },
  }).trim();

/** Each revert branch's tree must be exactly what `git revert <culprit>` gives on the branch's base. */
function expectTrueReverts(world: World, report: DemoReport): void {
  const scratch = mkdtempSync(join(tmpdir(), "sheriff-e2e-check-"));
  try {
    git(scratch, "clone", "--quiet", world.sandbox.repoDir(OWNER, REPO), "repo");
    const repo = join(scratch, "repo");
    for (const revert of report.reverts.filter((r) => r.outcome === "pr-opened")) {
      const branch = `origin/${revert.revertBranch}`;
      git(repo, "checkout", "--quiet", "--detach", `${branch}^`);
      git(repo, "revert", "--no-edit", revert.culprit);
      expect(git(repo, "rev-parse", "HEAD^{tree}")).toBe(git(repo, "rev-parse", `${branch}^{tree}`));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe("end to end through the real app, queue and GitHub stand-in", () => {
  let world: World | undefined;
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);
  const maintainer = () => new Octokit({ auth: world!.sandbox.userToken("mona"), baseUrl: world!.sandbox.apiUrl });

  beforeAll(() => {
    ensureAddon();
  }, 120_000);

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  async function start() {
    world = await startDemoWorld({ log: pino({ level: "silent" }), harness: { entry: compiledEntry() } });
    return world;
  }

  it(
    "a small day: one good PR left alone, one bad PR reverted with the evidence",
    async () => {
      const w = await start();
      const story = [STORY[0]!, STORY[1]!];
      const report = await playStory(w, PROJECT_ROOT, print, story, 5 * 60_000);
      expect(report.problems).toEqual([]);
      expect(report.revertPulls).toHaveLength(1);
      const [good, bad] = report.steps;
      expect(report.reverts.map((r) => [r.culprit, r.suite, r.outcome])).toEqual([[bad!.sha, "index-reduce", "pr-opened"]]);
      expectTrueReverts(w, report);

      const gh = maintainer();
      const revertPr = (await gh.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: report.revertPulls[0]!.number })).data;
      expect(revertPr.title).toBe(`Revert "${bad!.step.title}"`);
      expect(revertPr.user?.login).toBe("sheriff[bot]");
      expect(revertPr.body).toContain(`This reverts commit ${bad!.sha}`);
      expect(revertPr.body).toContain("index_reduce/mean/include_self=false");
      const onBad = (await gh.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: bad!.pr })).data;
      expect(onBad.filter((c) => c.user?.login === "sheriff[bot]").map((c) => c.body)).toEqual([expect.stringContaining(`@bob`)]);
      const onGood = (await gh.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: good!.pr })).data;
      expect(onGood).toEqual([]);
      const checks = (await gh.rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: bad!.sha })).data.check_runs;
      expect(checks.map((c) => [c.name, c.conclusion])).toEqual([["Sheriff / post-land GPU", "failure"]]);
    },
    8 * 60_000,
  );

  it(
    "the day from the story: exactly the three bad commits reverted, the flake reported, a PR landed by comment",
    async () => {
      const w = await start();
      const report = await playStory(w, PROJECT_ROOT, print, STORY, 20 * 60_000);
      expect(report.problems, lines.join("\n")).toEqual([]);
      const bad = report.steps.filter((s) => s.step.expect === "bad");
      expect(
        report.reverts
          .filter((r) => r.outcome === "pr-opened")
          .map((r) => r.culprit)
          .sort(),
      ).toEqual(bad.map((s) => s.sha).sort());
      expect(report.reverts.map((r) => r.suite).sort()).toEqual(["cuda-events", "half-precision", "index-reduce"]);
      expect(report.flaky.length).toBeGreaterThan(0);
      expect(report.flaky.every((f) => f.suite === "smoke")).toBe(true);
      const flakyCheck = (await maintainer().rest.checks.listForRef({ owner: OWNER, repo: REPO, ref: report.flaky[0]!.sha })).data
        .check_runs[0]!;
      expect(flakyCheck.output.summary).toContain("Flaky, not reverted for: `smoke: smoke`");
      // The batch: the bf16 commit's own job was withdrawn when the next commit landed, so bisection found it.
      const bf16 = report.steps.find((s) => s.step.breaks === "half-precision")!;
      const jobsAtBf16 = (await w.deps.ledger.jobs(`${OWNER}/${REPO}`)).filter(
        (j) => j.job.sha === bf16.sha && j.job.suite === "half-precision",
      );
      expect(jobsAtBf16.find((j) => j.job.purpose === "landed")?.state).toBe("superseded");
      expect(jobsAtBf16.some((j) => j.job.purpose === "bisect")).toBe(true);
      expectTrueReverts(w, report);

      const landed = report.steps.find((s) => s.step.landByComment)!;
      const pr = (await maintainer().rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: landed.pr })).data;
      expect(pr.merged).toBe(true);
      const replies = (await maintainer().rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: landed.pr })).data.map(
        (c) => c.body ?? "",
      );
      expect(replies.some((b) => /Landed as/.test(b))).toBe(true);
    },
    25 * 60_000,
  );
});
