import { z } from "zod";
import { benchmarkChart } from "../../core/dashboard/benchmarkView.js";
import { commitView } from "../../core/dashboard/commitView.js";
import { commitSelection, type GridFilters } from "../../core/dashboard/filters.js";
import { buildGrid } from "../../core/dashboard/grid.js";
import { repoPath } from "../../core/dashboard/links.js";
import { suiteNameSchema } from "../../model/config.js";
import { shortSha } from "../../model/sha.js";
import { renderBenchmark } from "./benchPage.js";
import { chartScripts } from "./charts.js";
import { renderCommit } from "./commitPage.js";
import { renderGrid } from "./gridPage.js";
import { html } from "./html.js";
import type { DashboardOptions, PageResult, RepoContext } from "./context.js";
import { DASHBOARD_PREFIX } from "../../core/dashboard/links.js";

const DEFAULT_PAGE = 100;
const DEFAULT_CHART_RUNS = 500;

const gridQuerySchema = z.object({
  branch: z.string().min(1).max(255).optional(),
  before: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(DEFAULT_PAGE),
  suite: suiteNameSchema.optional(),
  author: z.string().min(1).max(100).optional(),
  path: z.string().min(1).max(1000).optional(),
});

/** The query string's parameters, empty ones dropped (an empty filter box means no filter). */
function queryObject(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries([...query].filter(([, value]) => value !== ""));
}

function badQuery(issues: z.ZodError): PageResult {
  return {
    title: "Bad request",
    status: 400,
    body: html`<p>${issues.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}</p>`,
  };
}

export async function homePage(options: DashboardOptions): Promise<PageResult> {
  const branches = await options.store.branches();
  return {
    title: "Repositories",
    body: html`<table>
      <tr>
        <th>repository</th>
        <th>branch</th>
        <th>commits</th>
        <th>head</th>
      </tr>
      ${branches.map(
        (b) =>
          html`<tr>
            <td><a href="${repoPath(b.repo)}?branch=${encodeURIComponent(b.branch)}">${b.repo}</a></td>
            <td>${b.branch}</td>
            <td>${b.commits}</td>
            <td class="sha">${b.head ? shortSha(b.head) : ""}</td>
          </tr>`,
      )}
    </table>`,
  };
}

async function defaultBranch(options: DashboardOptions, repo: string): Promise<string> {
  return (await options.store.branches()).find((b) => b.repo === repo)?.branch ?? "main";
}

export async function gridPage(options: DashboardOptions, ctx: RepoContext): Promise<PageResult> {
  const parsed = gridQuerySchema.safeParse(queryObject(ctx.query));
  if (!parsed.success) return badQuery(parsed.error);
  const { branch: askedBranch, ...rest } = parsed.data;
  const filters: GridFilters = { branch: askedBranch ?? (await defaultBranch(options, ctx.repo)), ...rest };
  const selection = commitSelection(filters, ctx.config);
  const { commits, more } = await options.store.commitPage(ctx.repo, {
    branch: filters.branch,
    limit: filters.limit,
    ...(filters.before !== undefined ? { beforeSeq: filters.before } : {}),
    ...(selection.author ? { author: selection.author } : {}),
    ...(selection.suites ? { suites: selection.suites } : {}),
  });
  const facts = await options.store.pageFacts(
    ctx.repo,
    commits.map((c) => c.sha),
  );
  const grid = buildGrid(commits, facts, filters.suite);
  const note = selection.unknownPath ? `No suite's paths cover ${filters.path}, so no commit can touch it.` : undefined;
  return {
    title: `${ctx.repo} · ${filters.branch}`,
    body: renderGrid({
      repo: ctx.repo,
      filters,
      grid,
      more,
      allSuites: ctx.config?.suites.map((s) => s.name) ?? grid.suites,
      ...(note ? { note } : {}),
    }),
  };
}

export async function commitPage(options: DashboardOptions, ctx: RepoContext, shaOrPrefix: string): Promise<PageResult> {
  const matches = await options.store.commitsByPrefix(ctx.repo, shaOrPrefix, 2);
  const commit = matches[0];
  if (!commit) return { title: "Not found", status: 404, body: html`<p>No landed commit ${shaOrPrefix} in ${ctx.repo}.</p>` };
  if (matches.length > 1 && matches[1]!.sha !== commit.sha)
    return { title: "Ambiguous", status: 404, body: html`<p>${shaOrPrefix} names several commits; give more of the sha.</p>` };
  const { ledger } = options;
  const [jobs, verdicts, reverts, timeline] = await Promise.all([
    ledger.jobsAt(ctx.repo, commit.sha),
    ledger.verdictsAt(ctx.repo, commit.sha),
    ledger.revertsOf(ctx.repo, [commit.sha]),
    ledger.timelineAt(ctx.repo, [commit.sha]),
  ]);
  const suites = [...new Set(jobs.map((j) => j.job.suite))];
  const runs = await ledger.runsAt(ctx.repo, commit.sha, suites);
  // A verdict's investigation ran at the last good commit and the probed ones too.
  const investigation = await Promise.all(
    verdicts.map(async (v) => {
      const d = v.decision;
      const shas = d.type === "regression" ? [d.lastGood, ...(d.range ? [d.range.from, d.range.to] : [])] : [];
      const probes = d.type === "regression" && d.range ? await options.store.probedShas(ctx.repo, commit.branch, d.suite, d.range) : [];
      return ledger.runsOf(ctx.repo, d.suite, [...new Set([commit.sha, ...shas, ...probes])]);
    }),
  );
  const view = commitView({
    jobs,
    runs,
    verdicts,
    reverts,
    timeline,
    suites: ctx.config?.suites ?? [],
    investigation: investigation.flat(),
  });
  return {
    title: `${ctx.repo} · ${shortSha(commit.sha)}`,
    body: html`<p><a href="${repoPath(ctx.repo)}?branch=${encodeURIComponent(commit.branch)}">← ${ctx.repo} grid</a></p>
      ${renderCommit({ repo: ctx.repo, commit, view })}`,
    scripts: chartScripts(DASHBOARD_PREFIX),
  };
}

const benchQuerySchema = z.object({
  benchmark: z.string().min(1).max(512).optional(),
  branch: z.string().min(1).max(255).optional(),
  runs: z.coerce.number().int().min(1).max(2000).default(DEFAULT_CHART_RUNS),
});

export async function benchmarkPage(options: DashboardOptions, ctx: RepoContext, suite: string): Promise<PageResult> {
  const parsed = benchQuerySchema.safeParse(queryObject(ctx.query));
  if (!parsed.success || !suiteNameSchema.safeParse(suite).success) return badQuery(parsed.success ? new z.ZodError([]) : parsed.error);
  const branch = parsed.data.branch ?? (await defaultBranch(options, ctx.repo));
  const names = await options.store.benchmarkNames(ctx.repo, suite);
  const benchmark = parsed.data.benchmark ?? names[0] ?? null;
  const thresholds = ctx.config?.suites.find((s) => s.name === suite)?.thresholds ?? { slowdown: 0.05, pValue: 0.01 };
  const [points, anchors, rebaselines, steps] = await Promise.all([
    benchmark ? options.store.benchmarkPoints(ctx.repo, branch, suite, benchmark, parsed.data.runs) : Promise.resolve([]),
    options.store.acceptedLevels(ctx.repo, branch, suite),
    options.store.rebaselines(ctx.repo, suite),
    options.store.performanceSteps(ctx.repo, suite),
  ]);
  const chart =
    benchmark && points.length > 0
      ? benchmarkChart(ctx.repo, benchmark, points, { anchors, rebaselines, steps, slowdown: thresholds.slowdown })
      : null;
  return {
    title: `${ctx.repo} · ${suite}`,
    body: renderBenchmark({
      repo: ctx.repo,
      suite,
      benchmark,
      names,
      chart,
      rebaselines,
      steps,
      slowdown: thresholds.slowdown,
      pValue: thresholds.pValue,
    }),
    scripts: chartScripts(DASHBOARD_PREFIX),
  };
}
