import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Octokit } from "@octokit/rest";
import type { RevertRecord } from "../../model/ledger.js";
import { ADOPT_SHERIFF, initialFiles } from "./repoFiles.js";
import { STORY, type StoryStep } from "./story.js";
import type { World } from "./world.js";
import { repoKey } from "../../model/repo.js";
import { shortSha } from "../../model/sha.js";

const exec = promisify(execFile);
export const OWNER = "gpu-team";
export const REPO = "flash-kernels";
const MAINTAINER = "mona";
const INSTALLATION = 7;

export interface StepOutcome {
  step: StoryStep;
  pr: number;
  sha: string;
}

export interface DemoReport {
  steps: StepOutcome[];
  /** Flaky tests Sheriff reported (and did not revert for). */
  flaky: { suite: string; sha: string; tests: string[] }[];
  reverts: RevertRecord[];
  revertPulls: { number: number; title: string; head: string }[];
  problems: string[];
}

/** A person with a clone of the demo repository, acting through git over HTTP and the REST API. */
class Person {
  readonly octokit: Octokit;
  private cloned = false;

  constructor(
    readonly login: string,
    private readonly world: World,
    private readonly dir: string,
  ) {
    this.octokit = new Octokit({ auth: world.sandbox.userToken(login), baseUrl: world.sandbox.apiUrl });
  }

  async git(...args: string[]): Promise<string> {
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: this.login,
      GIT_AUTHOR_EMAIL: `${this.login}@example.com`,
      GIT_COMMITTER_NAME: this.login,
      GIT_COMMITTER_EMAIL: `${this.login}@example.com`,
    };
    return (await exec("git", args, { cwd: this.dir, env })).stdout.trim();
  }

  async sync(): Promise<void> {
    if (!this.cloned) {
      await mkdir(dirname(this.dir), { recursive: true });
      const url = this.world.sandbox.cloneUrl(OWNER, REPO, this.world.sandbox.userToken(this.login), this.login);
      await exec("git", ["clone", "--quiet", url, this.dir]);
      this.cloned = true;
    }
    await this.git("fetch", "--quiet", "origin");
  }

  /** Commits the step's edit on a new branch from the current main and pushes it. */
  async commitStep(branch: string, step: StoryStep): Promise<void> {
    await this.sync();
    await this.git("checkout", "--quiet", "-B", branch, "origin/main");
    const read = (path: string) => readFileSync(join(this.dir, path), "utf8");
    const edits = step.edit(read);
    for (const [path, content] of Object.entries(edits)) {
      await mkdir(dirname(join(this.dir, path)), { recursive: true });
      await writeFile(join(this.dir, path), content);
    }
    await this.git("add", "-A");
    await this.git("commit", "--quiet", "-m", step.title);
    await this.git("push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Plays the day: the maintainer adopts Sheriff, then each PR of the story is opened, approved
 * and merged (one through `@sheriff land`), some in quick batches while GPU jobs are still queued.
 */
export async function playStory(
  world: World,
  projectRoot: string,
  print: (line: string) => void,
  story: StoryStep[] = STORY,
  timeoutMs = 15 * 60_000,
): Promise<DemoReport> {
  const { sandbox } = world;
  await sandbox.createRepo(OWNER, REPO, { files: await initialFiles(projectRoot), installationId: INSTALLATION, private: true });
  const people = new Map<string, Person>();
  const person = (login: string) => {
    let p = people.get(login);
    if (!p) {
      p = new Person(login, world, join(world.dataDir, "people", login));
      people.set(login, p);
    }
    return p;
  };
  sandbox.addUser(MAINTAINER, { permissions: { [`${OWNER}/${REPO}`]: "admin" } });
  for (const login of new Set(story.map((s) => s.author))) sandbox.addUser(login, { permissions: { [`${OWNER}/${REPO}`]: "write" } });
  sandbox.addUser("eve", { permissions: { [`${OWNER}/${REPO}`]: "read" } });

  const settle = () => until("Sheriff to settle", () => world.settled(), timeoutMs);

  const mona = person(MAINTAINER);
  await mona.sync();
  await mona.git("checkout", "--quiet", "-B", "main", "origin/main");
  for (const [path, content] of Object.entries(ADOPT_SHERIFF)) {
    await mkdir(dirname(join(world.dataDir, "people", MAINTAINER, path)), { recursive: true });
    await writeFile(join(world.dataDir, "people", MAINTAINER, path), content);
  }
  await mona.git("add", "-A");
  await mona.git("commit", "--quiet", "-m", "Adopt Sheriff: post-land GPU suites");
  await mona.git("push", "--quiet", "origin", "HEAD:refs/heads/main");
  print(`09:00  ${MAINTAINER} adopts Sheriff; baseline runs of every suite`);
  await settle();

  const steps: StepOutcome[] = [];
  const narrated = new Set<string>();
  for (let i = 0; i < story.length; i++) {
    const step = story[i]!;
    const inBatch = step.batch !== undefined;
    const batchStarts = inBatch && story[i - 1]?.batch !== step.batch;
    const batchEnds = inBatch && story[i + 1]?.batch !== step.batch;
    if (batchStarts) {
      await world.gpuWorker.pause();
      print(`       (GPU runners busy: the next PRs land before any of them is tested)`);
    }
    const author = person(step.author);
    const branch = `${step.author}/${step.title.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`.slice(0, 60);
    await author.commitStep(branch, step);
    const { data: pr } = await author.octokit.rest.pulls.create({
      owner: OWNER,
      repo: REPO,
      head: branch,
      base: "main",
      title: step.title,
      body: step.body,
    });
    await mona.octokit.rest.pulls.createReview({ owner: OWNER, repo: REPO, pull_number: pr.number, event: "APPROVE" });
    if (step.landByComment) {
      await author.octokit.rest.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: pr.number,
        body: "Ready.\n\n@sheriff land",
      });
      await until(
        `#${pr.number} to land through the queue`,
        async () => (await mona.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr.number })).data.merged,
        timeoutMs,
      );
    } else {
      await mona.octokit.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: pr.number, merge_method: "squash" });
    }
    const merged = (await mona.octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: pr.number })).data;
    const sha = merged.merge_commit_sha!;
    steps.push({ step, pr: pr.number, sha });
    print(
      `${String(10 + i).padStart(2, "0")}:00  #${pr.number} ${step.title} (@${step.author}) landed as ${shortSha(sha)}${step.landByComment ? " via @sheriff land" : ""}`,
    );
    if (!inBatch || batchEnds) {
      if (batchEnds) world.gpuWorker.resume();
      await settle();
      await narrate(world, steps, print, narrated);
    }
  }
  return report(world, steps);
}

const NARRATED_KINDS = ["superseded", "regression", "flaky", "revert-pr-opened", "revert-commented", "revert-conflict", "job"];

/** Prints what Sheriff did since the last call, from its own ledger. */
async function narrate(world: World, steps: StepOutcome[], print: (line: string) => void, narrated: Set<string>): Promise<void> {
  const timeline = await world.deps.ledger.timeline(`${OWNER}/${REPO}`);
  const prOf = (sha?: string) => steps.find((s) => s.sha === sha)?.pr;
  for (const entry of timeline) {
    const id = `${entry.at}|${entry.kind}|${entry.sha}|${entry.suite}|${entry.text}`;
    if (narrated.has(id) || !NARRATED_KINDS.includes(entry.kind)) continue;
    narrated.add(id);
    if (entry.kind === "job" && !/ (retry|bisect|ab|baseline) job/.test(entry.text)) continue;
    const pr = prOf(entry.sha);
    print(
      `         sheriff: ${entry.kind.padEnd(16)} ${entry.suite ? `${entry.suite} ` : ""}${entry.sha ? shortSha(entry.sha) : ""}${pr ? ` (#${pr})` : ""} ${entry.text.split("\n")[0]!.slice(0, 110)}`,
    );
  }
}

async function report(world: World, steps: StepOutcome[]): Promise<DemoReport> {
  const key = repoKey({ owner: OWNER, repo: REPO });
  const reverts = await world.deps.ledger.reverts(key);
  const octokit = new Octokit({ auth: world.sandbox.userToken(MAINTAINER), baseUrl: world.sandbox.apiUrl });
  const pulls = (await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, state: "all", per_page: 100 })).data;
  const revertPulls = pulls
    .filter((p) => p.labels.some((l) => l.name === "sheriff:revert"))
    .map((p) => ({ number: p.number, title: p.title, head: p.head.ref }));
  const problems: string[] = [];
  for (const { step, pr, sha } of steps) {
    const reverted = reverts.find((r) => r.culprit === sha && r.outcome === "pr-opened");
    const comments = (await octokit.rest.issues.listComments({ owner: OWNER, repo: REPO, issue_number: pr })).data;
    const told = comments.some(
      (c) => c.user?.login === "sheriff[bot]" && c.body?.includes(`@${step.author}`) && c.body.includes("regressed"),
    );
    if (step.expect === "bad") {
      if (!reverted) problems.push(`#${pr} (${step.title}) broke ${step.breaks} but was not reverted`);
      else if (!revertPulls.some((p) => p.number === reverted.revertPr))
        problems.push(`#${pr}: revert PR #${reverted.revertPr} lacks the sheriff:revert label`);
      if (!told) problems.push(`#${pr}: the author was not told on the PR`);
      if (reverted && reverted.suite !== step.breaks) problems.push(`#${pr}: blamed on ${reverted.suite}, expected ${step.breaks}`);
    } else if (reverts.some((r) => r.culprit === sha)) {
      problems.push(`#${pr} (${step.title}) is ${step.expect} but Sheriff acted on it`);
    }
  }
  const bad = steps.filter((s) => s.step.expect === "bad").length;
  if (revertPulls.length !== bad) problems.push(`expected ${bad} revert PRs, found ${revertPulls.length}`);
  const flaky = (await world.deps.ledger.verdicts(key)).flatMap((v) =>
    v.decision.type === "flaky" ? [{ suite: v.decision.suite, sha: v.decision.sha, tests: v.decision.tests }] : [],
  );
  if (steps.some((s) => s.step.expect === "flaky") && flaky.length === 0) problems.push("the flaky smoke test was never reported as flaky");
  return { steps, flaky, reverts, revertPulls, problems };
}

export async function printSummary(report: DemoReport, print: (line: string) => void): Promise<void> {
  print("");
  print("Flaky tests reported, never reverted for:");
  for (const f of report.flaky) print(`  ${f.suite} at ${shortSha(f.sha)}: ${f.tests.join(", ")}`);
  print("Revert PRs opened by Sheriff:");
  for (const p of report.revertPulls) print(`  #${p.number} ${p.title}  (${p.head})`);
  print(
    report.problems.length === 0
      ? "All as expected: the three bad commits reverted, the rest left alone."
      : `Problems:\n${report.problems.map((p) => `  - ${p}`).join("\n")}`,
  );
}
