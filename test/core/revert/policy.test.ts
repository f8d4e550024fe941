import { describe, expect, it } from "vitest";
import { decideRevert, type RevertPolicyInput } from "../../../src/core/revert/policy.js";
import { revertBranch } from "../../../src/core/revert/evidence.js";
import { revertTitle } from "../../../src/model/revertCommit.js";

const NOW = new Date("2026-12-03T12:00:00Z");
const base: RevertPolicyInput = {
  mode: "on",
  culpritIsRevert: false,
  revertsToday: 0,
  maxPerDay: 3,
  landedAt: "2026-12-03T10:00:00Z",
  now: NOW,
  maxCulpritAgeHours: 24,
  labels: ["kernels"],
  optOutLabel: "sheriff-no-revert",
  pause: null,
  existing: null,
};
const pause = { by: "carol", reason: "driver rollout", at: "2026-12-03T08:00:00.000Z" };
const everyLimit: RevertPolicyInput = {
  ...base,
  revertsToday: 99,
  landedAt: "2026-11-01T00:00:00Z",
  labels: ["Sheriff-No-Revert"],
  pause,
};

describe("decideRevert", () => {
  it("opens a PR when on and under every limit", () => {
    expect(decideRevert(base)).toEqual({ action: "open-pr", reason: "autoRevert is on" });
  });
  it("never reverts a revert automatically", () => {
    expect(decideRevert({ ...base, culpritIsRevert: true })).toMatchObject({
      action: "comment-only",
      limit: "revert-culprit",
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
      limit: "daily-cap",
      reason: "the daily cap of 3 automatic reverts (`policy.maxAutoRevertsPerDay`) is reached",
    });
  });
  it("reports a culprit older than the maximum age instead of reverting it, naming the setting", () => {
    expect(decideRevert({ ...base, landedAt: "2026-12-02T12:00:00Z" }).action).toBe("open-pr");
    expect(decideRevert({ ...base, landedAt: "2026-12-02T11:30:00Z" })).toEqual({
      action: "comment-only",
      limit: "culprit-age",
      reason: "it landed 24.5 hours ago, longer than the 24 hours (`policy.maxCulpritAgeHours`) within which Sheriff reverts automatically",
    });
    expect(decideRevert({ ...base, landedAt: "2026-12-03T06:00:00Z", maxCulpritAgeHours: 4 })).toMatchObject({ limit: "culprit-age" });
    // When nobody knows when it landed, the age holds nothing back.
    expect(decideRevert({ ...base, landedAt: null }).action).toBe("open-pr");
  });
  it("leaves a PR with the opt-out label alone, whatever the label's case", () => {
    expect(decideRevert({ ...base, labels: ["kernels", "SHERIFF-no-revert"] })).toEqual({
      action: "comment-only",
      limit: "opt-out-label",
      reason: "the PR has the label `SHERIFF-no-revert` (`policy.optOutLabel`), which opts it out of automatic reverts",
    });
    expect(decideRevert({ ...base, labels: ["no-revert"], optOutLabel: "no-revert" })).toMatchObject({ limit: "opt-out-label" });
    expect(decideRevert({ ...base, labels: ["sheriff-no-revert-later"] }).action).toBe("open-pr");
  });
  it("holds automatic reverts back while the repository is paused, saying by whom, since when and why", () => {
    expect(decideRevert({ ...base, pause })).toEqual({
      action: "comment-only",
      limit: "paused",
      reason: "automatic reverts are paused on this repository by @carol since 2026-12-03 08:00 UTC: driver rollout",
    });
    // The pause is the first limit named when several hold.
    expect(decideRevert(everyLimit)).toMatchObject({ limit: "paused" });
    expect(decideRevert({ ...everyLimit, pause: null })).toMatchObject({ limit: "opt-out-label" });
    expect(decideRevert({ ...everyLimit, pause: null, labels: [] })).toMatchObject({ limit: "culprit-age" });
  });
  it("lets a person's command through the age, label, pause, cap and mode", () => {
    expect(decideRevert({ ...everyLimit, mode: "off", culpritIsRevert: true, requestedBy: "carol" })).toEqual({
      action: "open-pr",
      reason: "requested by @carol",
    });
  });
  it("never opens a second revert of what someone reverts already, on request or not", () => {
    const open = { kind: "open-pr" as const, pr: 17, author: "dave" };
    for (const input of [base, { ...base, requestedBy: "carol" }, { ...base, mode: "shadow" as const }]) {
      expect(decideRevert({ ...input, existing: open })).toEqual({
        action: "already-reverting",
        reason: "#17 by @dave already reverts it",
        existing: open,
      });
    }
    const landed = { kind: "landed" as const, sha: "4562f3f".padEnd(40, "0"), author: "Dave Doe" };
    expect(decideRevert({ ...base, requestedBy: "carol", existing: landed })).toMatchObject({
      action: "already-reverting",
      reason: "it is already reverted on the branch by 4562f3f, a commit by Dave Doe",
    });
  });
  it("names the branch and title as GitHub's revert button does", () => {
    expect(revertBranch("0123456789abcdef0123456789abcdef01234567")).toBe("sheriff/revert-0123456");
    expect(revertTitle("Faster bf16")).toBe('Revert "Faster bf16"');
  });
});
