import { describe, expect, it } from "vitest";
import {
  alreadyRevertingMessage,
  commentOnlyMessage,
  explainReply,
  pauseStatus,
  revertNoticeMarker,
  requestedRevertSummary,
  revertConflictMessage,
  revertConflictReason,
  revertOpenedMessage,
} from "../../../src/core/revert/messages.js";
import type { RevertRecord, TimelineEntry } from "../../../src/model/ledger.js";

const culprit = "abcdef1234567890abcdef1234567890abcdef12";
const notice = { culprit, suite: "gpu", author: "alice" };

describe("revert messages", () => {
  it("summarises a person's revert request with or without a reason", () => {
    expect(requestedRevertSummary("carol", "too slow")).toBe("Requested by @carol: too slow");
    expect(requestedRevertSummary("carol", undefined)).toBe("Requested by @carol.");
  });
  it("says why no revert PR was opened, mentioning the author when known", () => {
    expect(commentOnlyMessage(notice, "autoRevert is off", "EVIDENCE")).toBe(
      "@alice Sheriff found that abcdef1 regressed `gpu` after landing. No revert PR was opened: autoRevert is off.\n\nEVIDENCE",
    );
    expect(commentOnlyMessage({ culprit, suite: "gpu" }, "r", "E")).toMatch(/^Sheriff found that abcdef1/);
  });
  it("names the conflicting files and the head a revert conflicts with", () => {
    const conflict = { branch: "main", head: "1234567aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", files: ["a.py", "b.cu"] };
    expect(revertConflictMessage(notice, conflict, "E")).toBe(
      "@alice Sheriff found that abcdef1 regressed `gpu`, but reverting it on top of main (1234567) conflicts in `a.py`, `b.cu`: later commits changed the same lines. Please revert or fix it by hand.\n\nE",
    );
    expect(revertConflictReason(["a.py", "b.cu"])).toBe("revert conflicts in a.py, b.cu");
  });
  it("links the revert PR on the original", () => {
    expect(revertOpenedMessage({ culprit, suite: "gpu", author: "" }, 42, "3x slower.")).toBe(
      "Sheriff found that this PR's commit abcdef1 regressed `gpu` after landing, and opened #42 to revert it. 3x slower.",
    );
    expect(revertOpenedMessage({ culprit, suite: "gpu", withoutPr: true }, 42, "3x slower.")).toBe(
      "Sheriff found that abcdef1 regressed `gpu` after landing, and opened #42 to revert it. 3x slower.",
    );
  });
});

describe("revert notices", () => {
  it("marks each comment with the culprit and its trigger, hidden from readers", () => {
    expect(revertNoticeMarker(culprit, undefined)).toBe(`<!-- sheriff:revert ${culprit} auto -->`);
    expect(revertNoticeMarker(culprit, "carol")).toBe(`<!-- sheriff:revert ${culprit} by:carol -->`);
  });
  it("tells the requester which revert already does it", () => {
    expect(alreadyRevertingMessage(notice, "carol", { kind: "open-pr", pr: 30, author: "dave" })).toBe(
      "@carol Sheriff was asked to revert abcdef1, but #30 by @dave already reverts it, so no second revert PR was opened.",
    );
    expect(alreadyRevertingMessage(notice, "carol", { kind: "landed", sha: "4562f3f".padEnd(40, "0"), author: "Dave" })).toContain(
      "but 4562f3f, already on the branch, reverts it, so no second",
    );
  });
  it("says whether automatic reverts are paused, by whom, since when and why", () => {
    expect(pauseStatus(null)).toBe("Automatic reverts are not paused on this repository.");
    expect(pauseStatus({ by: "carol", reason: "driver `rollout`", at: "2026-12-03T08:00:00.000Z" })).toMatch(
      /^Automatic reverts are paused on this repository since 2026-12-03 08:00 UTC by @carol: .*rollout.*\. Regressions are still reported; `resume` turns them back on\.$/,
    );
  });
});

describe("explainReply", () => {
  const head = "1111111111111111111111111111111111111111";
  const entry = (sha: string, kind: string, text: string, suite?: string): TimelineEntry => ({
    at: "2026-12-02T14:05:06.789Z",
    kind,
    text,
    sha,
    ...(suite ? { suite } : {}),
  });

  it("says there is no record yet, and why when the PR has not landed", () => {
    expect(explainReply(7, { headSha: head, mergeSha: null }, [entry(culprit, "x", "y")], [])).toBe(
      "Sheriff has no record for #7 yet: it acts once a PR has landed.",
    );
    expect(explainReply(7, { headSha: head, mergeSha: culprit }, [], [])).toBe("Sheriff has no record for #7 yet.");
  });
  it("lists the entries for the head and merge shas, first lines only, and the revert outcome", () => {
    const timeline = [entry(culprit, "verdict", "regressed\nmore", "gpu"), entry("other", "note", "ignored"), entry(head, "note", "seen")];
    const reverts: RevertRecord[] = [
      { culprit, suite: "gpu", outcome: "pr-opened", reason: "autoRevert is on", summary: "s", at: "t", revertPr: 9 },
    ];
    expect(explainReply(7, { headSha: head, mergeSha: culprit }, timeline, reverts)).toBe(
      [
        "What Sheriff did for #7:",
        "- 2026-12-02 14:05:06 · verdict `gpu`: regressed",
        "- 2026-12-02 14:05:06 · note: seen",
        "- outcome: pr-opened (#9) because autoRevert is on",
      ].join("\n"),
    );
  });
  it("ends with the repository's pause of automatic reverts, record or not", () => {
    const pause = { by: "carol", reason: "rollout", at: "2026-12-03T08:00:00.000Z" };
    expect(explainReply(7, { headSha: head, mergeSha: culprit }, [], [], pause)).toBe(
      `Sheriff has no record for #7 yet.\n\n${pauseStatus(pause)}`,
    );
    expect(explainReply(7, { headSha: head, mergeSha: culprit }, [entry(culprit, "note", "seen")], [], pause)).toMatch(
      /note: seen\n\nAutomatic reverts are paused/,
    );
  });
});
