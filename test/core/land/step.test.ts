import { describe, expect, it } from "vitest";
import { baseChangeBlock, mergeFailure, ownMerge, planNotReady, updateRefusal, waitDeadline } from "../../../src/core/land/step.js";
import { blockedComment, ccAuthor, landedComment, landErrorComment, landReportMarker } from "../../../src/core/land/messages.js";

describe("land step decisions", () => {
  it("blocks a PR whose base changed while queued", () => {
    expect(baseChangeBlock("main", "main")).toBeNull();
    expect(baseChangeBlock("main", "dev")).toEqual({
      reason: "its base changed from `main` to `dev` while it was queued",
      hint: "requeue",
    });
  });
  it("blocks, updates or waits when not ready", () => {
    expect(planNotReady({ ready: false, blockedBy: "not approved" }, {}, "h", "main", 5)).toEqual({
      action: "blocked",
      block: { reason: "not approved", hint: "fix" },
    });
    expect(planNotReady({ ready: false, needsUpdate: true }, {}, "h", "main", 5)).toEqual({ action: "update" });
    expect(planNotReady({ ready: false, needsUpdate: true }, { updatedFrom: "h" }, "h", "main", 5)).toEqual({ action: "wait" });
    expect(planNotReady({ ready: false, needsUpdate: true }, { updates: 5 }, "h", "main", 5)).toEqual({
      action: "blocked",
      block: { reason: "`main` kept moving; it was updated 5 times without landing", hint: "retry" },
    });
    expect(planNotReady({ ready: false, waitFor: "checks" }, {}, "h", "main", 5)).toEqual({ action: "wait" });
  });
  it("blocks an update-branch only on a conflict", () => {
    expect(updateRefusal("Merge conflict", "main")).toEqual({ reason: "merge conflict with main", hint: "fix" });
    expect(updateRefusal("expected head sha didn't match", "main")).toBeNull();
  });
  it("gives up after the deadline", () => {
    expect(waitDeadline(1000 + 60_000, 1000, 60_000, "checks")).toBeNull();
    expect(waitDeadline(1001 + 60_000, 1000, 60_000, undefined)).toEqual({
      reason: "gave up after 1 minutes waiting for it to become ready",
      hint: "retry",
    });
  });
  it("retries a merge that raced a push a bounded number of times", () => {
    expect(mergeFailure(409, "moved", {}, "main", 3)).toEqual({ action: "retry", mergeAttempts: 1 });
    expect(mergeFailure(405, "Base branch was modified", { mergeAttempts: 1 }, "main", 3)).toEqual({ action: "retry", mergeAttempts: 2 });
    expect(mergeFailure(409, "moved", { mergeAttempts: 2 }, "main", 3)).toEqual({
      action: "blocked",
      block: { reason: "the branch kept changing while merging (moved)", hint: "retry" },
    });
    expect(mergeFailure(405, "Merge conflict", {}, "main", 3)).toEqual({
      action: "blocked",
      block: { reason: "merge conflict with main", hint: "fix" },
    });
    expect(mergeFailure(422, "nope", {}, "main", 3)).toEqual({
      action: "blocked",
      block: { reason: "GitHub refused the merge: nope", hint: "fix" },
    });
    expect(mergeFailure(500, "boom", {}, "main", 3)).toEqual({ action: "throw" });
  });
});

describe("land messages", () => {
  const audience = { slug: "sheriff", requestedBy: "bob", pr: 12, base: "main", author: "Alice" };
  it("copies in the author only when someone else asked", () => {
    expect(ccAuthor("Bob", "bob")).toBe("");
    expect(ccAuthor("", "bob")).toBe("");
    expect(ccAuthor("alice", "bob")).toBe(" cc @alice");
  });
  it("says why a land is blocked and what to do", () => {
    expect(blockedComment(audience, { reason: "not approved", hint: "fix" })).toBe(
      "@bob Could not land #12 on `main`: not approved. Once that is fixed, comment `@sheriff land` again. cc @Alice",
    );
    expect(blockedComment({ ...audience, author: "bob" }, { reason: "x", hint: "retry" })).toBe(
      "@bob Could not land #12 on `main`: x. Comment `@sheriff land` again to retry.",
    );
    expect(blockedComment({ ...audience, base: "dev" }, { reason: "y", hint: "requeue" })).toBe(
      "@bob Could not land #12 on `dev`: y. Comment `@sheriff land` again to queue it for `dev`. cc @Alice",
    );
  });
  it("reports a landing and an error", () => {
    expect(landedComment({ sha: "abc", requestedBy: "bob", method: "squash", branch: "main", author: "alice" })).toBe(
      "Landed as `abc` by @bob (squash into `main`). cc @alice",
    );
    expect(landErrorComment({ requestedBy: "bob", pr: 12, slug: "sheriff", message: "Bad credentials" })).toBe(
      "@bob Could not land #12: Sheriff hit an error talking to GitHub (Bad credentials). Comment `@sheriff land` again to retry.",
    );
  });
});

describe("ownMerge", () => {
  const head = "a".repeat(40);
  const landedAs = "b".repeat(40);
  it("is the commit the PR landed as when it was merged at the head this job asked to merge", () => {
    expect(ownMerge({ merged: true, head: { sha: head }, merge_commit_sha: landedAs }, { mergingHead: head })).toBe(landedAs);
  });
  it("is nothing for a PR not merged, merged at another head, or never asked to merge", () => {
    expect(ownMerge({ merged: false, head: { sha: head }, merge_commit_sha: null }, { mergingHead: head })).toBeNull();
    expect(ownMerge({ merged: true, head: { sha: "c".repeat(40) }, merge_commit_sha: landedAs }, { mergingHead: head })).toBeNull();
    expect(ownMerge({ merged: true, head: { sha: head }, merge_commit_sha: landedAs }, {})).toBeNull();
  });
});

describe("landReportMarker", () => {
  it("is a hidden HTML comment naming the land request", () => {
    expect(landReportMarker("r-1")).toBe("<!-- sheriff:land r-1 -->");
  });
});
