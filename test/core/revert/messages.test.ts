import { describe, expect, it } from "vitest";
import {
  commentOnlyMessage,
  explainReply,
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
});
