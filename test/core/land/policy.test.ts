import { describe, expect, it } from "vitest";
import { landReadiness, type LandInput } from "../../../src/core/land/policy.js";
import { mayRun } from "../../../src/core/commands/permission.js";
import { toPermission } from "../../../src/model/permission.js";

const base = (): LandInput => ({
  pr: {
    state: "open",
    merged: false,
    draft: false,
    mergeable: true,
    mergeable_state: "clean",
    head: { sha: "a".repeat(40) },
    base: { ref: "main" },
  },
  reviews: [{ user: { login: "carol" }, state: "APPROVED", submitted_at: "2026-11-25T10:00:00Z" }],
  requiredChecks: ["gpu"],
  checkRuns: [{ name: "gpu", status: "completed", conclusion: "success", id: 1 }],
  statuses: [],
  permissions: { carol: "write", dave: "write", erin: "write" },
  dismissStaleReviews: false,
});

type Edit = (i: LandInput) => void;
const cases: [string, Edit, ReturnType<typeof landReadiness>][] = [
  ["approved, green, clean", () => {}, { ready: true }],
  ["merged", (i) => (i.pr.merged = true), { ready: false, blockedBy: "it is already merged" }],
  ["closed", (i) => (i.pr.state = "closed"), { ready: false, blockedBy: "it is closed" }],
  ["no reviews", (i) => (i.reviews = []), { ready: false, blockedBy: "not approved" }],
  [
    "changes requested, then approved by the same reviewer",
    (i) =>
      (i.reviews = [
        { user: { login: "dave" }, state: "CHANGES_REQUESTED", submitted_at: "2026-11-25T09:00:00Z" },
        { user: { login: "dave" }, state: "APPROVED", submitted_at: "2026-11-25T11:00:00Z" },
      ]),
    { ready: true },
  ],
  [
    "approval then a comment keeps the approval",
    (i) => i.reviews.push({ user: { login: "carol" }, state: "COMMENTED", submitted_at: "2026-11-25T12:00:00Z" }),
    { ready: true },
  ],
  [
    "approval dismissed",
    (i) => i.reviews.push({ user: { login: "carol" }, state: "DISMISSED", submitted_at: "2026-11-25T12:00:00Z" }),
    { ready: false, blockedBy: "not approved" },
  ],
  [
    "one approval, one outstanding change request",
    (i) => i.reviews.push({ user: { login: "erin" }, state: "CHANGES_REQUESTED", submitted_at: "2026-11-25T12:00:00Z" }),
    { ready: false, blockedBy: "changes requested by @erin" },
  ],
  ["mergeability still computing", (i) => (i.pr.mergeable = null), { ready: false, waitFor: "GitHub to compute whether it can be merged" }],
  [
    "conflict",
    (i) => ((i.pr.mergeable = false), (i.pr.mergeable_state = "dirty")),
    { ready: false, blockedBy: "merge conflict with main" },
  ],
  ["behind", (i) => (i.pr.mergeable_state = "behind"), { ready: false, needsUpdate: true, waitFor: "an update from main" }],
  ["required check not reported yet", (i) => (i.checkRuns = []), { ready: false, waitFor: "check `gpu`" }],
  [
    "required check running",
    (i) => (i.checkRuns = [{ name: "gpu", status: "in_progress", conclusion: null }]),
    { ready: false, waitFor: "check `gpu`" },
  ],
  [
    "neutral and skipped count as green",
    (i) => ((i.requiredChecks = ["gpu", "docs"]), i.checkRuns.push({ name: "docs", status: "completed", conclusion: "skipped" })),
    { ready: true },
  ],
  [
    "a failed re-run is superseded by a later green one",
    (i) => i.checkRuns.unshift({ name: "gpu", status: "completed", conclusion: "failure", id: 0 }),
    { ready: true },
  ],
  [
    "timed out counts as failed",
    (i) => (i.checkRuns = [{ name: "gpu", status: "completed", conclusion: "timed_out" }]),
    { ready: false, blockedBy: "check `gpu` failed" },
  ],
  [
    "commit status success",
    (i) => ((i.requiredChecks = ["ci/lint"]), (i.statuses = [{ context: "ci/lint", state: "success" }])),
    { ready: true },
  ],
  [
    "commit status error",
    (i) => ((i.requiredChecks = ["ci/lint"]), (i.statuses = [{ context: "ci/lint", state: "error" }])),
    { ready: false, blockedBy: "check `ci/lint` failed" },
  ],
  [
    "a failed check beats behind",
    (i) => ((i.pr.mergeable_state = "behind"), (i.checkRuns = [{ name: "gpu", status: "completed", conclusion: "failure" }])),
    { ready: false, blockedBy: "check `gpu` failed" },
  ],
  ["no required checks", (i) => ((i.requiredChecks = []), (i.checkRuns = [])), { ready: true }],
];

describe("landReadiness", () => {
  it.each(cases)("%s", (_name, edit, expected) => {
    const input = base();
    edit(input);
    expect(landReadiness(input)).toEqual(expected);
  });
});

describe("permissions", () => {
  it("maps GitHub roles and decides who may run what", () => {
    expect(["admin", "maintain", "write", "triage", "read", "none", "custom-role", null].map(toPermission)).toEqual([
      "admin",
      "write",
      "write",
      "read",
      "read",
      "none",
      "none",
      "none",
    ]);
    for (const name of ["revert", "land", "rerun", "bisect", "rebaseline", "cancel"] as const) {
      expect(mayRun({ name }, "read")).toBe(false);
      expect(mayRun({ name }, "write")).toBe(true);
      expect(mayRun({ name }, "admin")).toBe(true);
    }
    for (const name of ["help", "explain"] as const) expect(mayRun({ name }, "none")).toBe(true);
  });
});
