import type { PriorRevert } from "../../model/land.js";
import { shaTag } from "../../model/sha.js";

export function renderRevertHistory(records: PriorRevert[]): string {
  if (!records.length) return "";
  const rows = records.map((r) => {
    const revert = r.revertPr ? `#${r.revertPr}` : r.revertSha ? `\`${shaTag(r.revertSha)}\`` : "—";
    const reason = r.reason.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return `| #${r.pr} (\`${shaTag(r.sha)}\`) | ${revert} | ${r.at.slice(0, 10)} | ${r.by} | ${reason}${r.category ? ` (${r.category})` : ""} |`;
  });
  return [
    `This PR re-lands a change that was reverted ${records.length === 1 ? "once" : `${records.length} times`}:`,
    "",
    "| Reverted | Revert | When | By | Why |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
