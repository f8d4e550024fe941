import { ledgerView } from "../../core/dashboard/ledgerView.js";
import { commitPath } from "../../core/dashboard/links.js";
import { shortSha } from "../../model/sha.js";
import type { DashboardOptions, PageResult, RepoContext } from "./context.js";
import { html } from "./html.js";

const SHOWN = 100;
const GPU_WINDOW_HOURS = 24;
const QUARANTINES_SHOWN_DAYS = 7;
const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;

/** Reverts with their outcomes, the tests that flaked most, quarantined hosts, GPU use, and the queues' depths now. */
export async function ledgerPage(options: DashboardOptions, ctx: RepoContext): Promise<PageResult> {
  const now = Date.now();
  const [reverts, flakes, revertPulls, depths, quarantines, gpuTime] = await Promise.all([
    options.store.recentReverts(ctx.repo, SHOWN),
    options.store.recentFlakes(ctx.repo, SHOWN),
    options.github.revertPulls(ctx.owner, ctx.name),
    Promise.all((options.queues ?? []).map(async (q) => ({ name: q.name, counts: await q.getJobCounts(...QUEUE_STATES) }))),
    options.store.hostQuarantines(ctx.repo, new Date(now - QUARANTINES_SHOWN_DAYS * 86_400_000)),
    options.store.gpuTime(ctx.repo, new Date(now - GPU_WINDOW_HOURS * 3_600_000)),
  ]);
  const view = ledgerView({ reverts, flakes, revertPulls, quarantines, gpuTime, gpuWindowHours: GPU_WINDOW_HOURS });
  const pullState = new Map(revertPulls.map((p) => [p.number, p.state]));
  const { precision } = view;
  const revertCell = (revertPr: number | undefined, relandedAs: string | undefined) =>
    html`${revertPr ? `#${revertPr} ${pullState.get(revertPr) ?? ""}` : ""}${relandedAs ? html`, relanded as ${link(relandedAs)}` : ""}`;
  const link = (sha: string, suite?: string) => html`<a class="sha" href="${commitPath(ctx.repo, sha, suite)}">${shortSha(sha)}</a>`;
  return {
    title: `${ctx.repo} · ledger`,
    body: html`<h1>Ledger</h1>
      <h2>Culprits acted on (newest ${SHOWN})</h2>
      <p>${view.outcomes.map((o) => html`<span class="tag">${o.outcome}: ${o.count}</span> `)}</p>
      <p class="precision">
        Precision ${precision.ratio === null ? "–" : `${(precision.ratio * 100).toFixed(0)}%`}: of Sheriff's last ${revertPulls.length}
        revert PRs, ${precision.merged} merged (${precision.relanded} of them relanded unchanged, counted against it),
        ${precision.closedUnmerged} closed unmerged (counted against it), ${precision.open} open.
      </p>
      <table class="reverts">
        <tr>
          <th>culprit</th>
          <th>suite</th>
          <th>outcome</th>
          <th>PR</th>
          <th>revert PR</th>
          <th>why</th>
          <th>at</th>
        </tr>
        ${reverts.map(
          (r) =>
            html`<tr data-outcome="${r.outcome}">
              <td>${link(r.culprit, r.suite)}</td>
              <td>${r.suite}</td>
              <td>${r.outcome}</td>
              <td>${r.originalPr ? `#${r.originalPr}` : ""}</td>
              <td>${revertCell(r.revertPr, r.relandedAs)}</td>
              <td>${r.reason}</td>
              <td class="muted landed">${r.at.slice(0, 16).replace("T", " ")}</td>
            </tr>`,
        )}
      </table>
      <h2>Flaky tests (in the newest ${SHOWN} flaky verdicts)</h2>
      <table class="flaky">
        <tr>
          <th>suite</th>
          <th>test</th>
          <th>verdicts</th>
          <th>last at</th>
        </tr>
        ${view.flakyTests.map(
          (t) =>
            html`<tr>
              <td>${t.suite}</td>
              <td><code>${t.test}</code></td>
              <td>${t.times}</td>
              <td>${link(t.lastSha, t.suite)}</td>
            </tr>`,
        )}
      </table>
      <h2>Quarantined hosts (open, and ended in the last ${QUARANTINES_SHOWN_DAYS} days)</h2>
      ${
        view.quarantines.length === 0
          ? html`<p class="muted">No host was quarantined: no machine's failures followed it rather than the code.</p>`
          : html`<table class="quarantines">
              <tr>
                <th>host</th>
                <th>state</th>
                <th>from</th>
                <th>to</th>
                <th>why</th>
              </tr>
              ${view.quarantines.map(
                (q) =>
                  html`<tr data-open="${String(q.open)}">
                    <td><code>${q.host}</code></td>
                    <td>${q.open ? "quarantined: canaries only" : "re-admitted"}</td>
                    <td class="muted">${q.from.slice(0, 16).replace("T", " ")}</td>
                    <td class="muted">${q.to ? q.to.slice(0, 16).replace("T", " ") : ""}</td>
                    <td>${q.summary}</td>
                  </tr>`,
              )}
            </table>`
      }
      <h2>GPUs (this repository's jobs, last ${GPU_WINDOW_HOURS} hours)</h2>
      <table class="gpus">
        <tr>
          <th>host</th>
          <th>GPU</th>
          <th>jobs</th>
          <th>GPU hours</th>
          <th>utilisation</th>
        </tr>
        ${view.gpus.map(
          (g) =>
            html`<tr data-quarantined="${String(g.quarantined)}">
              <td><code>${g.host}</code>${g.quarantined ? html` <span class="tag">quarantined</span>` : ""}</td>
              <td>${g.gpu ?? "–"}</td>
              <td>${g.runs}</td>
              <td>${g.hours.toFixed(2)}</td>
              <td>${(g.utilisation * 100).toFixed(1)}%</td>
            </tr>`,
        )}
      </table>
      <h2>Queues now</h2>
      <table class="queues">
        <tr>
          <th>queue</th>
          ${QUEUE_STATES.map((s) => html`<th>${s}</th>`)}
        </tr>
        ${depths.map(
          (d) =>
            html`<tr>
              <td>${d.name}</td>
              ${QUEUE_STATES.map((s) => html`<td>${d.counts[s] ?? 0}</td>`)}
            </tr>`,
        )}
      </table>`,
  };
}
