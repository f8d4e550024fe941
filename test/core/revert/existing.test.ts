import { describe, expect, it } from "vitest";
import { findExistingRevert, revertsTarget } from "../../../src/core/revert/existing.js";

const culprit = "0cfbd9732a0e5b2b8a7d2f5e6c1a9b8d7e6f5a4b";
const target = { culprit, originalPr: 12, repoFullName: "gpu-team/flash-kernels" };

describe("revertsTarget", () => {
  it("reads git revert's message, abbreviated or not, in any case", () => {
    expect(revertsTarget(`Revert "x"\n\nThis reverts commit ${culprit}.`, target)).toBe(true);
    expect(revertsTarget("This reverts commit 0CFBD97.", target)).toBe(true);
    expect(revertsTarget("This reverts commit 0cfbd98.", target)).toBe(false);
    expect(revertsTarget("This reverts commit 0cfbd9.", target)).toBe(false);
  });
  it("reads a Reverts: trailer", () => {
    expect(revertsTarget("Back out the fast path\n\nReverts: 0cfbd9732a0e\nSigned-off-by: A <a@b>", target)).toBe(true);
    expect(revertsTarget("Mentions 0cfbd9732a0e in passing", target)).toBe(false);
  });
  it("reads the body GitHub's Revert button writes, for this PR only", () => {
    expect(revertsTarget("Reverts gpu-team/flash-kernels#12", target)).toBe(true);
    expect(revertsTarget("Reverts #12", target)).toBe(true);
    expect(revertsTarget("Reverts gpu-team/flash-kernels#123", target)).toBe(false);
    expect(revertsTarget("Reverts other/repo#12", target)).toBe(false);
    expect(revertsTarget("Reverts #12", { ...target, originalPr: null })).toBe(false);
  });
});

describe("findExistingRevert", () => {
  const ownBranch = "sheriff/revert-0cfbd97";
  const humanPr = { number: 30, title: 'Revert "Count mean rows"', body: "Reverts #12", author: "dave", headRef: "revert-12" };
  const landed = { sha: "4562f3f".padEnd(40, "1"), author: "Dave", message: `Revert\n\nThis reverts commit ${culprit}.` };

  it("finds a person's open revert PR, but not Sheriff's own branch, which a retry resumes", () => {
    expect(findExistingRevert(target, { landed: [], openPulls: [humanPr], ownBranch })).toEqual({
      kind: "open-pr",
      pr: 30,
      author: "dave",
    });
    const own = { ...humanPr, number: 31, headRef: ownBranch, author: "sheriff[bot]" };
    expect(findExistingRevert(target, { landed: [], openPulls: [own], ownBranch })).toBeNull();
  });
  it("prefers a landed revert to an open PR, and ignores PRs and commits about other things", () => {
    expect(findExistingRevert(target, { landed: [landed], openPulls: [humanPr], ownBranch })).toEqual({
      kind: "landed",
      sha: landed.sha,
      author: "Dave",
    });
    const unrelated = { ...humanPr, body: "Reverts #13", title: "Revert something else" };
    const other = { ...landed, message: "Tidy the #12 follow-ups" };
    expect(findExistingRevert(target, { landed: [other], openPulls: [unrelated], ownBranch })).toBeNull();
  });
});
