/** What Sheriff's check run on a landed commit says. */
export interface CommitSummary {
  conclusion: "success" | "failure" | "neutral" | "skipped";
  title: string;
  text: string;
}
