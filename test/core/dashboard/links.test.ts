import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { withDecisionLink } from "../../../src/core/dashboard/links.js";
import { renderEvidence, revertBody, revertBranch } from "../../../src/core/revert/evidence.js";
import { alreadyRevertedMessage, commentOnlyMessage, revertOpenedMessage } from "../../../src/core/revert/messages.js";
import type { RegressionDecision } from "../../../src/model/engine.js";

const culprit = createHash("sha1").update("culprit").digest("hex");
const PUBLIC = "https://sheriff.example.com";
const decision: RegressionDecision = {
  type: "regression",
  suite: "half-precision",
  kind: "correctness",
  culprit,
  lastGood: createHash("sha1").update("good").digest("hex"),
  failingTests: [{ name: "convert/f32->bf16/rne" }],
  benchmarks: [],
  summary: "breaks convert/f32->bf16/rne",
};
const repo = { owner: "gpu-team", repo: "flash-kernels" };
const page = `${PUBLIC}/sheriff/gpu-team/flash-kernels/commit/`;

describe("withDecisionLink", () => {
  it("links a revert PR's body, as the revert step writes it, to the culprit's decision page", () => {
    const body = revertBody(decision, renderEvidence(decision, {}), 5);
    const patch = withDecisionLink(
      { method: "POST", url: "/repos/{owner}/{repo}/pulls", ...repo, head: revertBranch(culprit), body },
      PUBLIC,
    );
    expect(patch?.body).toBe(`${body}\n\n[Why Sheriff decided this: the decision page](${page}${culprit}#suite-half-precision)`);
  });

  it("links each comment about a culprit, by the short sha it names", () => {
    const notice = { culprit, suite: "half-precision", author: "carol" };
    for (const body of [
      revertOpenedMessage(notice, 7, decision.summary),
      commentOnlyMessage(notice, "autoRevert is shadow", "evidence"),
      alreadyRevertedMessage(notice, { branch: "main", head: culprit }),
    ]) {
      const patch = withDecisionLink(
        { method: "POST", url: "/repos/{owner}/{repo}/issues/{issue_number}/comments", ...repo, body },
        PUBLIC,
      );
      expect(patch?.body).toContain(`(${page}${culprit.slice(0, 7)}#suite-half-precision)`);
    }
  });

  it("gives a new check run its commit's page as details_url", () => {
    const patch = withDecisionLink(
      { method: "POST", url: "/repos/{owner}/{repo}/check-runs", ...repo, head_sha: culprit, name: "x" } as never,
      PUBLIC,
    );
    expect(patch).toEqual({ details_url: `${page}${culprit}` });
  });

  it("leaves other requests, and texts that already link, alone", () => {
    expect(
      withDecisionLink({ method: "POST", url: "/repos/{owner}/{repo}/issues/{issue_number}/comments", ...repo, body: "Merged." }, PUBLIC),
    ).toBeNull();
    expect(
      withDecisionLink(
        { method: "POST", url: "/repos/{owner}/{repo}/pulls", ...repo, head: "alice/feature", body: "This reverts commit " + culprit },
        PUBLIC,
      ),
    ).toBeNull();
    expect(withDecisionLink({ method: "GET", url: "/repos/{owner}/{repo}/pulls", ...repo }, PUBLIC)).toBeNull();
    const linked = `Sheriff found that ${culprit.slice(0, 7)} regressed \`x\` — ${PUBLIC}/sheriff/…`;
    expect(
      withDecisionLink({ method: "POST", url: "/repos/{owner}/{repo}/issues/{issue_number}/comments", ...repo, body: linked }, PUBLIC),
    ).toBeNull();
  });
});
