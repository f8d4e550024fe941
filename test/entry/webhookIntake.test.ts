import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import { sheriffApp } from "../../src/entry/app.js";
import { triageComment } from "../../src/entry/services.js";
import type { PipelineDeps } from "../../src/flows/deps.js";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { FakeGitHub } from "../helpers/fakeGitHub.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { startSheriff } from "../helpers/sheriff.js";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/comments/${name}.json`, import.meta.url), "utf8"));
const INSTALLATION = 2311213;

function prComment(body: string, overrides: Record<string, unknown> = {}) {
  const base = fixture("pr-comment-created");
  return {
    ...base,
    comment: { ...base.comment, body },
    repository: { ...base.repository, name: "flash-kernels", owner: { ...base.repository.owner, login: "gpu-team" } },
    installation: { id: INSTALLATION },
    ...overrides,
  };
}

describe("triageComment", () => {
  it("lets through only created comments by people that hold a command", () => {
    expect(triageComment(prComment("@sheriff explain"), "sheriff")).toEqual({ kind: "commands", installationId: INSTALLATION });
    expect(triageComment(prComment("@sheriff explian"), "sheriff")).toEqual({ kind: "commands", installationId: INSTALLATION });
    expect(triageComment(prComment("@sheriff explain", { action: "edited" }), "sheriff")).toMatchObject({ reason: "not-created" });
    expect(triageComment(prComment("@sheriff explain", { action: "deleted" }), "sheriff")).toMatchObject({ reason: "not-created" });
    expect(triageComment(prComment("LGTM, thanks"), "sheriff")).toMatchObject({ reason: "no-commands" });
    expect(triageComment(prComment("@other-bot explain"), "sheriff")).toMatchObject({ reason: "no-commands" });
    const bot = fixture("bot-comment-created");
    expect(triageComment({ ...bot, installation: { id: 1 } }, "sheriff")).toMatchObject({ reason: "bot" });
    const noInstallation = triageComment({ ...prComment("@sheriff explain"), installation: undefined }, "sheriff");
    expect(noInstallation).toMatchObject({ kind: "ignored", reason: "invalid-payload", issues: [expect.stringContaining("installation")] });
  });
});

describe("issue_comment through the real app", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;
  appTestHooks(() => ({ sheriff, github, repo }));

  it("asks for no installation token for edits, deletions, bots and comments without commands", async () => {
    repo = new TestRepo();
    github = new FakeGitHub("gpu-team", "flash-kernels", repo.bare, INSTALLATION);
    sheriff = await startSheriff("comment-triage");
    const tokens = () => github!.callsTo("POST", /\/access_tokens$/).length;
    await sheriff.deliver("issue_comment", prComment("@sheriff explain", { action: "edited" }));
    await sheriff.deliver("issue_comment", prComment("@sheriff explain", { action: "deleted" }));
    await sheriff.deliver("issue_comment", prComment("Nice speed-up!"));
    await sheriff.deliver("issue_comment", { ...fixture("bot-comment-created"), installation: { id: INSTALLATION } });
    expect(tokens()).toBe(0);
    await sheriff.deliver("issue_comment", prComment("@sheriff help"));
    expect(tokens()).toBe(1);
  }, 30_000);
});

describe("pull_request.closed", () => {
  it("logs a payload that fails its schema, with the zod issues", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const probot = new Probot({
      appId: 1,
      privateKey: "unused",
      log: pino({ level: "info" }, sink),
      Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
    });
    await probot.load(sheriffApp({} as PipelineDeps));
    await probot.receive({ id: "d-1", name: "pull_request", payload: { action: "closed", pull_request: { number: "x" } } as never });
    const line = lines.find((l) => l.msg === "malformed pull_request webhook ignored");
    expect(line).toMatchObject({ delivery: "d-1", event: "pull_request", issues: expect.arrayContaining([expect.any(String)]) });
  });
});
