import type { PriorRevert } from "../../model/land.js";

export function renderRevertHistory(records: PriorRevert[]): string {
  if (!records.length) return "";
  const rows = records.map((r) => {
    const revert = r.revertPr ? `#${r.revertPr}` : r.revertSha ? `\`${r.revertSha.slice(0, 12)}\`` : "—";
    const reason = r.reason.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return `| #${r.pr} (\`${r.sha.slice(0, 12)}\`) | ${revert} | ${r.at.slice(0, 10)} | ${r.by} | ${reason}${r.category ? ` (${r.category})` : ""} |`;
  });
  return [
    `This PR re-lands a change that was reverted ${records.length === 1 ? "once" : `${records.length} times`}:`,
    "",
    "| Reverted | Revert | When | By | Why |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
