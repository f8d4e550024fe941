import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "./helpers.js";

let h: Harness;
const repo = { owner: "acme", repo: "kernels" };
const WORKFLOW = "name: GPU tests\non:\n  workflow_dispatch:\n    inputs:\n      sha: {required: true}\njobs: {}\n";

beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", {
    installationId: 7,
    requiredChecks: ["gpu-tests"],
    files: { "README.md": "hi\n", ".github/workflows/gpu.yml": WORKFLOW },
  });
});
afterEach(async () => h.close());

describe("issues, comments, reactions and labels", () => {
  it("round-trips comments, reactions and labels and sends issue_comment webhooks", async () => {
    const alice = h.sb.addUser("alice", { permissions: { "acme/kernels": "write" } });
    const asAlice = h.user(alice.token);
    const wc = await h.clone("acme", "kernels", alice.token, "alice");
    await h.git(wc, "checkout", "-q", "-b", "f");
    h.write(wc, "f.txt", "f\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "f");
    await h.git(wc, "push", "-q", "origin", "f");
    const pr = (await asAlice.rest.pulls.create({ ...repo, head: "f", base: "main", title: "F" })).data;

    const human = (await asAlice.rest.issues.createComment({ ...repo, issue_number: pr.number, body: "/sheriff retry" })).data;
    const bot = (await h.app.rest.issues.createComment({ ...repo, issue_number: pr.number, body: "on it" })).data;
    expect(bot.user?.login).toBe("sheriff-test[bot]");
    await h.app.rest.issues.updateComment({ ...repo, comment_id: bot.id, body: "done" });
    expect((await h.app.rest.issues.getComment({ ...repo, comment_id: bot.id })).data.body).toBe("done");
    expect((await h.app.rest.issues.listComments({ ...repo, issue_number: pr.number })).data.map((c) => c.body)).toEqual([
      "/sheriff retry",
      "done",
    ]);

    const r1 = await h.app.rest.reactions.createForIssueComment({ ...repo, comment_id: human.id, content: "eyes" });
    const r2 = await h.app.rest.reactions.createForIssueComment({ ...repo, comment_id: human.id, content: "eyes" });
    expect([r1.status, r2.status]).toEqual([201, 200]);
    expect(r2.data.id).toBe(r1.data.id);
    await h.app.rest.reactions.createForIssueComment({ ...repo, comment_id: human.id, content: "rocket" });
    const reactions = (await h.app.rest.reactions.listForIssueComment({ ...repo, comment_id: human.id })).data;
    expect(reactions.map((r) => [r.content, r.user?.login])).toEqual([
      ["eyes", "sheriff-test[bot]"],
      ["rocket", "sheriff-test[bot]"],
    ]);
    expect((await h.app.rest.issues.getComment({ ...repo, comment_id: human.id })).data.reactions?.total_count).toBe(2);
    await expect(
      h.app.rest.reactions.createForIssueComment({ ...repo, comment_id: human.id, content: "party" as any }),
    ).rejects.toMatchObject({ status: 422 });

    await h.app.rest.issues.createLabel({ ...repo, name: "sheriff:queued", color: "00ff00" });
    await expect(h.app.rest.issues.createLabel({ ...repo, name: "sheriff:queued" })).rejects.toMatchObject({ status: 422 });
    const labels = (await h.app.rest.issues.addLabels({ ...repo, issue_number: pr.number, labels: ["sheriff:queued", "revert"] })).data;
    expect(labels.map((l) => l.name)).toEqual(["sheriff:queued", "revert"]);
    await h.app.rest.issues.removeLabel({ ...repo, issue_number: pr.number, name: "revert" });
    await expect(h.app.rest.issues.removeLabel({ ...repo, issue_number: pr.number, name: "revert" })).rejects.toMatchObject({
      status: 404,
    });
    expect((await h.app.rest.issues.listLabelsOnIssue({ ...repo, issue_number: pr.number })).data.map((l) => l.name)).toEqual([
      "sheriff:queued",
    ]);
    expect((await h.app.rest.pulls.get({ ...repo, pull_number: pr.number })).data.labels.map((l) => l.name)).toEqual(["sheriff:queued"]);
    const issue = (await h.app.rest.issues.get({ ...repo, issue_number: pr.number })).data;
    expect(issue.pull_request?.url).toMatch(/\/pulls\/1$/);

    await h.sb.waitForIdle();
    const comments = h
      .events("issue_comment")
      .map((e) => [e.payload.action, e.payload.comment.body, e.payload.sender.login, e.payload.sender.type]);
    expect(comments).toEqual([
      ["created", "/sheriff retry", "alice", "User"],
      ["created", "on it", "sheriff-test[bot]", "Bot"],
      ["edited", "done", "sheriff-test[bot]", "Bot"],
    ]);
    expect(h.events("issue_comment", "edited")[0]!.payload.changes.body.from).toBe("on it");
    expect(h.events("issue_comment")[0]!.payload.issue.pull_request).toBeTruthy();
    expect(h.events("pull_request", "labeled").map((e) => e.payload.label.name)).toEqual(["sheriff:queued", "revert"]);
    expect(h.received.every((r) => r.signatureValid)).toBe(true);
  });
});

describe("checks and statuses", () => {
  it("creates and completes check runs, gates merges on required checks", async () => {
    const token = h.sb.installationToken(7);
    const wc = await h.clone("acme", "kernels", token);
    await h.git(wc, "checkout", "-q", "-b", "g");
    h.write(wc, "g.txt", "g\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "g");
    await h.git(wc, "push", "-q", "origin", "g");
    const sha = (await h.git(wc, "rev-parse", "HEAD")).trim();
    const pr = (await h.app.rest.pulls.create({ ...repo, head: "g", base: "main", title: "G" })).data;
    expect((await h.app.rest.pulls.get({ ...repo, pull_number: pr.number })).data.mergeable_state).toBe("blocked");
    await expect(h.app.rest.pulls.merge({ ...repo, pull_number: pr.number })).rejects.toMatchObject({
      status: 405,
      message: expect.stringMatching(/Required status check "gpu-tests" is expected/),
    });
    const prot = (await h.app.rest.repos.getStatusChecksProtection({ ...repo, branch: "main" })).data;
    expect(prot.contexts).toEqual(["gpu-tests"]);
    await expect(h.app.rest.repos.getStatusChecksProtection({ ...repo, branch: "g" })).rejects.toMatchObject({ status: 404 });

    const run = (await h.app.rest.checks.create({ ...repo, name: "gpu-tests", head_sha: sha, status: "in_progress" })).data;
    expect(run).toMatchObject({ status: "in_progress", conclusion: null, head_sha: sha });
    const user = h.sb.addUser("u", { permissions: { "acme/kernels": "write" } });
    await expect(h.user(user.token).rest.checks.create({ ...repo, name: "x", head_sha: sha })).rejects.toMatchObject({ status: 403 });
    await h.app.rest.checks.update({ ...repo, check_run_id: run.id, conclusion: "success", output: { title: "ok", summary: "all green" } });
    const listed = (await h.app.rest.checks.listForRef({ ...repo, ref: sha })).data;
    expect(listed.total_count).toBe(1);
    expect(listed.check_runs[0]).toMatchObject({
      name: "gpu-tests",
      status: "completed",
      conclusion: "success",
      output: { summary: "all green" },
    });
    expect(listed.check_runs[0]!.pull_requests.map((p) => p.number)).toEqual([pr.number]);

    await h.app.rest.repos.createCommitStatus({ ...repo, sha, state: "pending", context: "lint" });
    await h.app.rest.repos.createCommitStatus({ ...repo, sha, state: "success", context: "lint" });
    const combined = (await h.app.rest.repos.getCombinedStatusForRef({ ...repo, ref: "g" })).data;
    expect(combined).toMatchObject({ state: "success", total_count: 1, sha });

    expect((await h.app.rest.pulls.get({ ...repo, pull_number: pr.number })).data.mergeable_state).toBe("clean");
    await h.app.rest.pulls.merge({ ...repo, pull_number: pr.number, merge_method: "squash" });
    await h.sb.waitForIdle();
    expect(h.events("check_run").map((e) => e.payload.action)).toEqual(["created", "completed"]);
    expect(h.events("check_run", "completed")[0]!.payload.check_run.conclusion).toBe("success");
  });
});

describe("actions", () => {
  it("dispatches a workflow, completes it with an artifact and serves the zip", async () => {
    await expect(h.app.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: "missing.yml", ref: "main" })).rejects.toMatchObject({
      status: 404,
    });
    const res = await h.app.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: "gpu.yml", ref: "main", inputs: { sha: "abc" } });
    expect(res.status).toBe(204);
    const runs = h.sb.workflowRuns("acme", "kernels");
    expect(runs).toHaveLength(1);
    const runId = runs[0]!.id as number;
    const listed = (await h.app.rest.actions.listWorkflowRuns({ ...repo, workflow_id: "gpu.yml", event: "workflow_dispatch" })).data;
    expect(listed.workflow_runs.map((r) => [r.id, r.status, r.name])).toEqual([[runId, "queued", "GPU tests"]]);

    h.sb.completeWorkflowRun({
      owner: "acme",
      repo: "kernels",
      runId,
      conclusion: "success",
      artifacts: [{ name: "results", files: { "results.json": '{"ok":true}\n', "logs/run.txt": "line\n" } }],
    });
    const run = (await h.app.rest.actions.getWorkflowRun({ ...repo, run_id: runId })).data;
    expect(run).toMatchObject({ status: "completed", conclusion: "success", event: "workflow_dispatch", head_branch: "main" });
    const arts = (await h.app.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId })).data;
    expect(arts.artifacts.map((a) => a.name)).toEqual(["results"]);
    const zip = await h.app.rest.actions.downloadArtifact({ ...repo, artifact_id: arts.artifacts[0]!.id, archive_format: "zip" });
    const file = join(h.dir, "a.zip");
    writeFileSync(file, Buffer.from(zip.data as ArrayBuffer));
    expect(execFileSync("unzip", ["-p", file, "results.json"], { encoding: "utf8" })).toBe('{"ok":true}\n');
    expect(execFileSync("unzip", ["-p", file, "logs/run.txt"], { encoding: "utf8" })).toBe("line\n");
    execFileSync("unzip", ["-tq", file]);

    await h.sb.waitForIdle();
    expect(h.events("workflow_run").map((e) => [e.payload.action, e.payload.workflow_run.id])).toEqual([
      ["requested", runId],
      ["completed", runId],
    ]);
    expect(h.events("workflow_run", "completed")[0]!.payload.workflow_run.conclusion).toBe("success");
  });
});
