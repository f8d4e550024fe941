import type { Octokit } from "@octokit/rest";
import type { Metrics } from "../../adapters/metrics.js";
import { httpStatusOf } from "../../adapters/github/httpStatus.js";
import { withDecisionLink, type OutgoingRequest } from "../../core/dashboard/links.js";

/**
 * Hooks on an installation client: every response (and failure) is counted with GitHub's
 * rate-limit headers, and, with a public address, what Sheriff posts about a culprit links to
 * its decision page.
 */
export function decorateClient(octokit: Octokit, metrics: Metrics, publicUrl: string | undefined): void {
  if (publicUrl) {
    octokit.hook.before("request", (options) => {
      const patch = withDecisionLink(options as unknown as OutgoingRequest, publicUrl);
      if (patch) Object.assign(options, patch);
    });
  }
  octokit.hook.after("request", (response, options) => {
    metrics.githubResponse(options.method, response.status, response.headers as Record<string, string | number | undefined>);
  });
  octokit.hook.error("request", (error, options) => {
    const headers = (error as { response?: { headers?: Record<string, string | number | undefined> } }).response?.headers ?? {};
    metrics.githubResponse(options.method, httpStatusOf(error) ?? 0, headers);
    throw error;
  });
}
