import { describe, expect, it } from "vitest";
import { renderEvidence, revertBody } from "../../../src/core/revert/evidence.js";
import { explainReply, requestedRevertSummary, revertConflictMessage } from "../../../src/core/revert/messages.js";
import { summarizeCommit } from "../../../src/core/summary.js";
import { landErrorComment } from "../../../src/core/land/messages.js";
import type { RegressionDecision, RunRecord } from "../../../src/model/engine.js";
import { RESULT_SCHEMA_VERSION, type SuiteResult } from "../../../src/model/result.js";

const culprit = "c".repeat(40);
const good = "9".repeat(40);
const TOKEN = `ghs_${"S3cr3t".repeat(6)}`;
const HOSTILE = "x` @everyone ![t](https://evil.example/track.png) <img src=https://evil.example/i> | ```";

/** What of `markdown` still renders as Markdown once fenced blocks and code spans (within a line, as Sheriff writes them) are taken out. */
function liveMarkdown(markdown: string): string {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, "").replace(/(`+)(?!`)[^\n]*?(?<!`)\1(?!`)/g, "");
}

function run(sha: string, tests: SuiteResult["tests"], log?: string): RunRecord {
  return {
    job: { sha, suite: "gpu", purpose: "landed", attempt: 0 },
    result: {
      schema: RESULT_SCHEMA_VERSION,
      suite: "gpu",
      commit: sha,
      status: "completed",
      startedAt: "2026-11-25T10:00:00.000Z",
      finishedAt: "2026-11-25T10:01:00.000Z",
      tests,
      benchmarks: [{ name: HOSTILE, unit: "us", samples: [1], reference: { name: HOSTILE, samples: [2] } }],
      environment: { commit: sha, gpu: HOSTILE, host: "@host" },
      ...(log ? { log } : {}),
    },
  };
}

const decision: RegressionDecision = {
  type: "regression",
  suite: "gpu",
  kind: "correctness",
  culprit,
  lastGood: good,
  failingTests: [{ name: HOSTILE }],
  benchmarks: [{ name: HOSTILE, ratio: 1.5, pValue: 0.001 }],
  summary: requestedRevertSummary("carol", HOSTILE),
};

describe("text from people and suites in what Sheriff posts", () => {
  const log = `step 1\nGITHUB_TOKEN=${TOKEN}\n-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n\`\`\`\n@everyone\n<img src=https://evil.example/l>\nFAIL`;
  const evidence = renderEvidence(decision, {
    culprit: run(culprit, [{ name: HOSTILE, outcome: "fail", message: `${HOSTILE}\nline two` }], log),
    lastGood: run(good, [{ name: HOSTILE, outcome: "pass" }]),
  });
  const body = revertBody(decision, evidence, 7);

  it("quotes a revert reason, test names, messages, the GPU and the log tail as code", () => {
    const live = liveMarkdown(body);
    expect(live).not.toContain("@everyone");
    expect(live).not.toContain("evil.example");
    expect(live).not.toContain("@host");
    expect(body).toContain("Requested by @carol: x` @\u200deveryone t  | ```");
  });

  it("keeps each table row one row", () => {
    const cells = (row: string) => row.replace(/\\\|/g, "").split("|").length;
    const tables = body
      .split("\n")
      .map((line) => (line.startsWith("|") ? line : ""))
      .join("\n")
      .split(/\n{2,}/)
      .map((block) => block.trim())
      .filter(Boolean);
    expect(tables).toHaveLength(2);
    for (const table of tables) {
      const rows = table.split("\n");
      for (const row of rows) expect(cells(row)).toBe(cells(rows[0]!));
    }
  });

  it("redacts the token and the key a suite printed", () => {
    expect(body).not.toContain(TOKEN);
    expect(body).not.toContain("MIIEv");
    expect(body).toContain("FAIL");
  });

  it("limits a 100 KB reason", () => {
    expect(requestedRevertSummary("carol", "r".repeat(100_000)).length).toBeLessThan(1100);
  });

  it("quotes conflicting files and caps how many", () => {
    const files = [HOSTILE, ...Array.from({ length: 500 }, (_, i) => `f${i}.cu`)];
    const message = revertConflictMessage({ culprit, suite: "gpu" }, { branch: "main", head: good, files }, "E");
    expect(liveMarkdown(message)).not.toContain("@everyone");
    expect(message).toContain("and 481 more");
  });

  it("quotes names in the check run, and lists only the first of thousands of failures", () => {
    const tests = Array.from({ length: 5000 }, (_, i) => ({ name: i === 0 ? HOSTILE : `t${i}`, outcome: "fail" as const }));
    const summary = summarizeCommit([run(culprit, tests)], [], [], [], [HOSTILE]);
    expect(liveMarkdown(summary.text)).not.toContain("@everyone");
    expect(liveMarkdown(summary.text)).not.toContain("evil.example");
    expect(summary.text).toContain("and 4990 more");
    expect(summary.text.length).toBeLessThan(5000);
  });

  it("makes notes in the explain reply inert", () => {
    const reply = explainReply(
      7,
      { headSha: culprit, mergeSha: null },
      [{ at: "2026-11-25T10:00:00.000Z", kind: "revert-request", sha: culprit, text: `@carol: ${HOSTILE}` }],
      [],
    );
    expect(reply).not.toMatch(/@(everyone|carol)/);
    expect(reply).not.toContain("evil.example");
  });

  it("makes an echoed GitHub error inert", () => {
    const comment = landErrorComment({ requestedBy: "dave", pr: 7, slug: "sheriff", message: `Validation failed: ${HOSTILE}` });
    expect(comment.startsWith("@dave ")).toBe(true);
    expect(comment.slice(1)).not.toMatch(/@(everyone)/);
    expect(comment).not.toContain("evil.example");
  });
});
