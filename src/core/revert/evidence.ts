import type { RunRecord, RegressionDecision } from "../../model/engine.js";
import { shortSha } from "../../model/sha.js";

function testTable(culprit: RunRecord | undefined, lastGood: RunRecord | undefined, names: string[]): string {
  if (names.length === 0) return "";
  const outcome = (run: RunRecord | undefined, name: string) => run?.result.tests.find((t) => t.name === name)?.outcome ?? "not run";
  const rows = names.map((name) => {
    const message = culprit?.result.tests.find((t) => t.name === name)?.message ?? "";
    return `| \`${name}\` | ${outcome(lastGood, name)} | ${outcome(culprit, name)} | ${message.replace(/\|/g, "\\|").replace(/\n/g, " ").slice(0, 200)} |`;
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
    for (const b of decision.benchmarks) lines.push(`| \`${b.name}\` | ${b.ratio.toFixed(3)}× | ${b.pValue.toExponential(2)} |`);
  }
  const env = runs.culprit?.result.environment;
  if (env) lines.push("", `Ran on ${env.gpu ?? env.executor ?? "a runner"}${env.host ? ` (${env.host})` : ""}.`);
  const log = runs.culprit?.result.log?.trim();
  if (log) lines.push("", "<details><summary>Log tail at the culprit</summary>", "", "```", log.slice(-3000), "```", "</details>");
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
