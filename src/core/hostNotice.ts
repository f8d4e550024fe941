import { codeBlock, inlineCode, quoteLine } from "./quote.js";

/** The label of Sheriff's host-quarantine issues, by which it finds them again. */
export const HOST_ISSUE_LABEL = "sheriff:host-quarantine";

/** The hidden marker that names one quarantine in its issue. */
export function hostIssueMarker(host: string, from: string): string {
  return `<!-- sheriff:host-quarantine ${encodeURIComponent(host)} ${from} -->`;
}

/** The issue that tells people a host was quarantined: which host, since when, why, and what happens next. */
export function hostIssue(host: string, from: string, why: { summary: string; evidence: string[] }): { title: string; body: string } {
  const name = host.replace(/[\r\n]+/g, " ").slice(0, 100);
  return {
    title: `Sheriff quarantined GPU host ${name}`,
    body: [
      hostIssueMarker(host, from),
      `Sheriff took ${inlineCode(host)} out of this repository's fleet at ${from}: its failures follow the machine, not the code.`,
      "",
      quoteLine(why.summary, 1000),
      "",
      "The latest disagreements (test at suite@commit, failed there, passed on other hosts):",
      "",
      codeBlock(why.evidence.join("\n"), { max: 3000 }),
      "",
      "Until it is re-admitted its results are discounted, and it runs only canaries: commits other hosts passed.",
      "After 3 clean canaries in a row Sheriff re-admits it and closes this issue. Check its GPU and driver meanwhile.",
    ].join("\n"),
  };
}

export function hostReadmittedComment(host: string): string {
  return `${inlineCode(host)} passed 3 canary runs in a row that other hosts passed: Sheriff re-admitted it.`;
}
