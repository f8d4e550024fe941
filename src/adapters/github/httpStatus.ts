/** GitHub's answer to a failed request, as Octokit reports it: the one place that reads error statuses. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("status" in err)) return undefined;
  const { status } = err as { status: unknown };
  return typeof status === "number" ? status : undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatusOf(err) === 404;
}
