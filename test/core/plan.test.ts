import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/model/configFile.js";
import { planLandedJobs, suitesTouchedBy, toLandedCommit } from "../../src/core/plan.js";
import { revertedSha } from "../../src/model/revertCommit.js";

const config = parseConfig(`
suites:
  - { name: attention, kind: builtin, builtin: varlen-attention, paths: ["kernels/attention/**", "kernels/common/*.cuh"] }
  - { name: convert, kind: builtin, builtin: half-precision, paths: ["kernels/convert/**"] }
  - { name: dotfiles, kind: command, command: "true", paths: [".github/**"] }
`);

const commit = (sha: string, files: string[], title = "change", message = title) =>
  toLandedCommit(
    { sha: sha.repeat(40).slice(0, 40), parents: ["f".repeat(40)], title, message, authorName: "Alice", authorEmail: "a@x", files },
    config,
  );

describe("plan", () => {
  it("maps changed files to suites by glob", () => {
    expect(suitesTouchedBy(["kernels/attention/fwd.cu"], config)).toEqual(["attention"]);
    expect(suitesTouchedBy(["kernels/common/tile.cuh", "kernels/convert/bf16.cu"], config)).toEqual(["attention", "convert"]);
    expect(suitesTouchedBy(["kernels/common/deep/tile.cuh", "README.md"], config)).toEqual([]);
    expect(suitesTouchedBy([".github/sheriff.yml"], config)).toEqual(["dotfiles"]);
  });

  it("plans one job per suite, at the newest commit that touches it", () => {
    const commits = [
      commit("a", ["kernels/attention/a.cu"]),
      commit("b", ["kernels/convert/c.cu"]),
      commit("c", ["kernels/attention/b.cu"]),
      commit("d", ["docs/x.md"]),
    ];
    expect(planLandedJobs(commits)).toEqual([
      { sha: commits[2]!.sha, suite: "attention", purpose: "landed", attempt: 0 },
      { sha: commits[1]!.sha, suite: "convert", purpose: "landed", attempt: 0 },
    ]);
  });

  it("recognises reverts by title or git's message", () => {
    expect(commit("a", [], 'Revert "Faster bf16"').isRevert).toBe(true);
    expect(commit("a", [], "Undo bf16", `Undo bf16\n\nThis reverts commit ${"1".repeat(40)}.`).isRevert).toBe(true);
    expect(commit("a", [], "Revertible conversions").isRevert).toBe(false);
    expect(revertedSha(`x\nThis reverts commit ${"ab12".repeat(10)}.`)).toBe("ab12".repeat(10));
  });
});
