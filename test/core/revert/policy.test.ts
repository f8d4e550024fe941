import { describe, expect, it } from "vitest";
import { decideRevert } from "../../../src/core/revert/policy.js";
import { revertBranch } from "../../../src/core/revert/evidence.js";
import { revertTitle } from "../../../src/model/revertCommit.js";

const base = { mode: "on" as const, culpritIsRevert: false, revertsToday: 0, maxPerDay: 3 };

describe("decideRevert", () => {
  it("opens a PR when on and under the cap", () => {
    expect(decideRevert(base).action).toBe("open-pr");
  });
  it("never reverts a revert automatically", () => {
    expect(decideRevert({ ...base, culpritIsRevert: true })).toMatchObject({
      action: "comment-only",
      reason: expect.stringContaining("never reverts a revert"),
    });
  });
  it("comments only in shadow mode and records only when off", () => {
    expect(decideRevert({ ...base, mode: "shadow" }).action).toBe("comment-only");
    expect(decideRevert({ ...base, mode: "off" }).action).toBe("record-only");
  });
  it("stops at the daily cap", () => {
    expect(decideRevert({ ...base, revertsToday: 2 }).action).toBe("open-pr");
    expect(decideRevert({ ...base, revertsToday: 3 })).toMatchObject({
      action: "comment-only",
      reason: expect.stringContaining("daily cap of 3"),
    });
  });
  it("lets a person's command through whatever the policy", () => {
    expect(decideRevert({ ...base, mode: "off", revertsToday: 99, culpritIsRevert: true, requestedBy: "carol" })).toEqual({
      action: "open-pr",
      reason: "requested by @carol",
    });
  });
  it("names the branch and title as GitHub's revert button does", () => {
    expect(revertBranch("0123456789abcdef0123456789abcdef01234567")).toBe("sheriff/revert-0123456");
    expect(revertTitle("Faster bf16")).toBe('Revert "Faster bf16"');
  });
});
