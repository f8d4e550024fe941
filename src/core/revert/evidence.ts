import type { RunRecord, RegressionDecision } from "../../model/engine.js";
import { shortSha } from "../../model/sha.js";
import { inlineCode, logTailBlock, tableCell } from "../quote.js";

function testTable(culprit: RunRecord | undefined, lastGood: RunRecord | undefined, names: string[]): string {
  if (names.length === 0) return "";
  const outcome = (run: RunRecord | undefined, name: string) => run?.result.tests.find((t) => t.name === name)?.outcome ?? "not run";
  const rows = names.map((name) => {
    const message = culprit?.result.tests.find((t) => t.name === name)?.message ?? "";
    return `| ${tableCell(inlineCode(name))} | ${outcome(lastGood, name)} | ${outcome(culprit, name)} | ${message ? tableCell(inlineCode(message)) : ""} |`;
  });
  return ["| test | before | after | message |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** The evidence block of a revert PR or a shadow-mode comment. */
export function renderEvidence(decision: RegressionDecision, runs: { culprit?: RunRecord; lastGood?: RunRecord }): string {
  const lines = [
    `**Suite** \`${decision.suite}\` · **kind** ${decision.kind} · **culprit** ${decision.culprit} · **last good** ${decision.lastGood}`,
    "",
    decision.summary,
  ];
  const table = testTable(
    runs.culprit,
    runs.lastGood,
    decision.failingTests.map((t) => t.name),
  );
  if (table) lines.push("", table);
  if (decision.benchmarks.length > 0) {
    lines.push("", "| benchmark | time ratio (after / before) | p-value |", "| --- | --- | --- |");
    for (const b of decision.benchmarks)
      lines.push(`| ${tableCell(inlineCode(b.name))} | ${b.ratio.toFixed(3)}× | ${b.pValue.toExponential(2)} |`);
  }
  const env = runs.culprit?.result.environment;
  if (env) {
    const where = env.gpu ?? env.executor;
    lines.push("", `Ran on ${where ? inlineCode(where, 100) : "a runner"}${env.host ? ` (${inlineCode(env.host, 100)})` : ""}.`);
  }
  // The suite wrote it: shown as code, secrets redacted, never as Markdown.
  const log = runs.culprit?.result.log?.trim();
  if (log) lines.push("", "<details><summary>Log tail at the culprit</summary>", "", logTailBlock(log), "", "</details>");
  return lines.join("\n");
}

export function revertBranch(culprit: string): string {
  return `sheriff/revert-${shortSha(culprit)}`;
}

export function revertBody(decision: RegressionDecision, evidence: string, originalPr: number | null): string {
  return [
    `This reverts commit ${decision.culprit}${originalPr ? ` (#${originalPr})` : ""}.`,
    "",
    `Sheriff found that ${shortSha(decision.culprit)} regressed \`${decision.suite}\` after it landed.`,
    "",
    evidence,
    "",
    "Review and merge this PR to restore the branch, or close it if the change is intended (then `rebaseline` the suite).",
  ].join("\n");
}
