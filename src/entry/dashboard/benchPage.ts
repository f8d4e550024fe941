import type { BenchmarkChart } from "../../core/dashboard/benchmarkView.js";
import { benchmarkPath, commitPath } from "../../core/dashboard/links.js";
import { shortSha } from "../../model/sha.js";
import { chart } from "./charts.js";
import { html, type Html } from "./html.js";

export function renderBenchmark(input: {
  repo: string;
  suite: string;
  benchmark: string | null;
  names: string[];
  chart: BenchmarkChart | null;
  rebaselines: { sha: string; reason: string; by: string; at: string }[];
  steps: { culprit: string; lastGood: string; summary: string; at: string }[];
  slowdown: number;
  pValue: number;
}): Html {
  const { repo, suite } = input;
  const picker = html`<p>
    ${input.names.map((n) =>
      n === input.benchmark ? html`<strong>${n}</strong> · ` : html`<a href="${benchmarkPath(repo, suite, n)}">${n}</a> · `,
    )}
  </p>`;
  if (!input.benchmark || !input.chart)
    return html`<h1>${suite}</h1>
      ${picker}
      <p>No benchmark results recorded for this suite yet.</p>`;
  const levels = input.chart.levels.map(
    (l) =>
      html`<tr>
        <td><a class="sha" href="${commitPath(repo, l.sha)}">${shortSha(l.sha)}</a></td>
        <td>${l.gpu}</td>
        <td>${l.level.toFixed(2)} µs</td>
        <td>${l.threshold.toFixed(2)} µs</td>
        <td>${l.note ?? ""}</td>
      </tr>`,
  );
  return html`<h1>${suite}: ${input.benchmark}</h1>
    ${picker}
    <p class="muted">
      ${input.chart.points} runs on ${input.chart.gpus.join(", ")} · a slowdown counts when over ${(input.slowdown * 100).toFixed(1)}% with
      p &lt; ${input.pValue}, confirmed by an A/B run
    </p>
    ${chart("benchmark-chart", input.chart.config)}
    <h2>Accepted levels</h2>
    ${
      levels.length
        ? html`<table>
            <tr>
              <th>at</th>
              <th>GPU</th>
              <th>level</th>
              <th>threshold</th>
              <th>note</th>
            </tr>
            ${levels}
          </table>`
        : html`<p class="muted">none yet</p>`
    }
    <h2>Rebaselines</h2>
    ${
      input.rebaselines.length
        ? html`<table>
            ${input.rebaselines.map(
              (r) =>
                html`<tr>
                  <td><a class="sha" href="${commitPath(repo, r.sha)}">${shortSha(r.sha)}</a></td>
                  <td>${r.reason}</td>
                  <td>@${r.by}</td>
                  <td class="muted">${r.at}</td>
                </tr>`,
            )}
          </table>`
        : html`<p class="muted">none</p>`
    }
    <h2>Detected steps</h2>
    ${
      input.steps.length
        ? html`<table>
            ${input.steps.map(
              (s) =>
                html`<tr>
                  <td>culprit <a class="sha" href="${commitPath(repo, s.culprit, suite)}">${shortSha(s.culprit)}</a></td>
                  <td>last good ${shortSha(s.lastGood)}</td>
                  <td>${s.summary}</td>
                </tr>`,
            )}
          </table>`
        : html`<p class="muted">none</p>`
    }`;
}
