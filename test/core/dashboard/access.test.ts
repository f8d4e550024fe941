import { describe, expect, it } from "vitest";
import { decidePageAccess, safeReturnPath } from "../../../src/core/dashboard/access.js";
import { commitSelection, gridQuery } from "../../../src/core/dashboard/filters.js";
import { ledgerView } from "../../../src/core/dashboard/ledgerView.js";
import { parseConfig } from "../../../src/model/configFile.js";

describe("decidePageAccess", () => {
  it("opens a public repository's pages only when its config says so", () => {
    expect(decidePageAccess({ repoPrivate: false, openWhenPublic: true, viewer: null }).kind).toBe("allowed");
    expect(decidePageAccess({ repoPrivate: false, openWhenPublic: false, viewer: null }).kind).toBe("sign-in");
  });

  it("asks for sign-in on a private repository, then lets in only people who can read it", () => {
    expect(decidePageAccess({ repoPrivate: true, openWhenPublic: true, viewer: null }).kind).toBe("sign-in");
    expect(decidePageAccess({ repoPrivate: true, openWhenPublic: true, viewer: { login: "mona", canRead: true } }).kind).toBe("allowed");
    expect(decidePageAccess({ repoPrivate: true, openWhenPublic: false, viewer: { login: "mallory", canRead: false } })).toEqual({
      kind: "refused",
      reason: "@mallory cannot read this repository on GitHub",
    });
  });
});

describe("safeReturnPath", () => {
  it("keeps a dashboard path and refuses anything that could leave the site", () => {
    expect(safeReturnPath("/sheriff/a/b?branch=main", "/sheriff")).toBe("/sheriff/a/b?branch=main");
    for (const bad of ["https://evil.example/", "//evil.example/sheriff/", "/other", "/sheriff\\..", undefined])
      expect(safeReturnPath(bad, "/sheriff")).toBe("/sheriff/");
  });
});

describe("commitSelection", () => {
  const config = parseConfig(`suites:
  - name: attn
    kind: builtin
    builtin: varlen-attention
    paths: ["kernels/src/attn*", "kernels/include/**"]
  - name: half
    kind: builtin
    builtin: half-precision
    paths: ["kernels/src/convert*", "kernels/include/**"]
`);

  it("turns a path into the suites whose globs cover it", () => {
    expect(commitSelection({ branch: "main", limit: 50, path: "kernels/include/common.h" }, config)).toEqual({ suites: ["attn", "half"] });
    expect(commitSelection({ branch: "main", limit: 50, path: "kernels/include/common.h", suite: "half" }, config)).toEqual({
      suites: ["half"],
    });
    expect(commitSelection({ branch: "main", limit: 50, path: "docs/readme.md" }, config)).toEqual({ suites: [], unknownPath: true });
  });

  it("passes suite and author through", () => {
    expect(commitSelection({ branch: "main", limit: 50, suite: "attn", author: "bob" }, null)).toEqual({ suites: ["attn"], author: "bob" });
  });

  it("writes a page's query string without empty filters", () => {
    expect(gridQuery({ branch: "main", author: "", before: 120, limit: 50 })).toBe("?branch=main&before=120&limit=50");
  });
});

describe("ledgerView", () => {
  it("puts open quarantines first, marks quarantined hosts' GPUs, and ranks GPUs by the share of the window they were busy", () => {
    const view = ledgerView({
      reverts: [],
      flakes: [],
      revertPulls: [],
      quarantines: [
        { host: "h1", from: "2026-12-01T00:00:00.000Z", to: "2026-12-02T00:00:00.000Z", summary: "old" },
        { host: "h2", from: "2026-12-03T00:00:00.000Z", summary: "bad GPU" },
      ],
      gpuTime: [
        { host: "h1", gpu: 0, runs: 10, seconds: 3600 },
        { host: "h2", gpu: 1, runs: 2, seconds: 200_000 },
      ],
      gpuWindowHours: 24,
    });
    expect(view.quarantines.map((q) => [q.host, q.open])).toEqual([
      ["h2", true],
      ["h1", false],
    ]);
    expect(view.gpus.map((g) => [g.host, g.gpu, +g.utilisation.toFixed(4), g.quarantined])).toEqual([
      ["h2", 1, 1, true],
      ["h1", 0, 0.0417, false],
    ]);
  });

  it("counts a merged revert PR whose culprit was relanded unchanged against Sheriff", () => {
    const revert = (culprit: string, revertPr: number, relandedAs?: string) => ({
      culprit,
      suite: "s",
      outcome: "pr-opened" as const,
      reason: "",
      at: "2026-12-03T00:00:00.000Z",
      revertPr,
      ...(relandedAs ? { relandedAs } : {}),
    });
    const view = ledgerView({
      reverts: [revert("a", 1, "a2"), revert("b", 2), revert("c", 3, "c2")],
      flakes: [],
      revertPulls: [
        { number: 1, state: "merged" },
        { number: 2, state: "merged" },
        { number: 3, state: "closed" },
      ],
    });
    expect(view.precision).toEqual({ merged: 2, relanded: 1, closedUnmerged: 1, open: 0, ratio: 1 / 3 });
  });

  it("has no precision before any revert PR was decided", () => {
    expect(ledgerView({ reverts: [], flakes: [], revertPulls: [{ number: 1, state: "open" }] }).precision.ratio).toBeNull();
  });

  it("counts outcomes, Sheriff's precision on decided revert PRs, and ranks flaky tests by how many verdicts named them", () => {
    const at = (h: number) => `2026-12-0${h}T00:00:00.000Z`;
    const view = ledgerView({
      reverts: [
        { culprit: "a", suite: "s", outcome: "pr-opened", reason: "", at: at(3) },
        { culprit: "b", suite: "s", outcome: "commented", reason: "", at: at(2) },
        { culprit: "c", suite: "s", outcome: "pr-opened", reason: "", at: at(1) },
      ],
      flakes: [
        { suite: "smoke", sha: "x3", tests: ["warm"], at: at(3) },
        { suite: "smoke", sha: "x2", tests: ["warm", "cold"], at: at(2) },
        { suite: "attn", sha: "x1", tests: ["warm"], at: at(1) },
      ],
      revertPulls: [
        { number: 1, state: "merged" },
        { number: 2, state: "merged" },
        { number: 3, state: "merged" },
        { number: 4, state: "closed" },
        { number: 5, state: "open" },
      ],
    });
    expect(view.precision).toEqual({ merged: 3, relanded: 0, closedUnmerged: 1, open: 1, ratio: 0.75 });
    expect(view.outcomes).toEqual([
      { outcome: "pr-opened", count: 2 },
      { outcome: "commented", count: 1 },
    ]);
    expect(view.flakyTests.map((t) => [t.suite, t.test, t.times, t.lastSha])).toEqual([
      ["smoke", "warm", 2, "x3"],
      ["smoke", "cold", 1, "x2"],
      ["attn", "warm", 1, "x1"],
    ]);
  });
});
