import type { BenchmarkView, CommitView, RunView, VerdictView } from "../../core/dashboard/commitView.js";
import { benchmarkPath, commitPath } from "../../core/dashboard/links.js";
import type { ChainCommit } from "../../model/dashboard.js";
import { shortSha } from "../../model/sha.js";
import { chart } from "./charts.js";
import { html, type Html } from "./html.js";

function shaLink(repo: string, sha: string): Html {
  return html`<a class="sha" href="${commitPath(repo, sha)}">${shortSha(sha)}</a>`;
}

function samplesChart(id: string, bench: BenchmarkView): Html {
  const points = (samples: number[]) => samples.map((y, x) => ({ x, y }));
  const datasets = [
    { label: `${bench.name} (µs)`, data: points(bench.samples), showLine: false, pointRadius: 3 },
    ...(bench.reference
      ? [{ label: `${bench.reference.name} (µs)`, data: points(bench.reference.samples), showLine: false, pointRadius: 3 }]
      : []),
  ];
  return chart(
    id,
    {
      type: "scatter",
      data: { datasets },
      options: {
        scales: {
          x: { title: { display: true, text: bench.reducedFrom ? "quantile" : "repetition" } },
          y: { title: { display: true, text: "µs" } },
        },
      },
    },
    "chart small",
  );
}

function runSection(repo: string, run: RunView, index: number): Html {
  const tests = run.tests.map(
    (t) =>
      html`<tr class="${t.outcome === "fail" || t.outcome === "error" ? "bad" : ""}">
        <td><code>${t.name}</code></td>
        <td>${t.outcome}</td>
        <td>${t.maxError ?? "–"}</td>
        <td>${t.tolerance ?? "–"}</td>
        <td>${t.withinTolerance === undefined ? "" : t.withinTolerance ? "within" : "over"}</td>
        <td>${t.message ?? ""}</td>
      </tr>`,
  );
  const benches = run.benchmarks.map(
    (b, i) =>
      html`<h4>
          ${b.name}: median ${b.median.toFixed(1)}
          µs${b.speedup ? html`, ${b.speedup.toFixed(2)}× vs ${b.reference?.name}` : ""}${
            b.reducedFrom ? html` <span class="muted">(quantiles of ${b.reducedFrom} samples)</span>` : ""
          }
          · <a href="${benchmarkPath(repo, run.suite, b.name)}">over time</a>
        </h4>
        ${samplesChart(`samples-${index}-${i}`, b)}`,
  );
  return html`<section class="run" data-job="${run.jobId}">
    <h3><code>${run.jobId}</code> · ${run.status} · ${run.where}</h3>
    ${
      run.tests.length
        ? html`<table>
            <tr>
              <th>test</th>
              <th>outcome</th>
              <th>max error</th>
              <th>tolerance</th>
              <th></th>
              <th>message</th>
            </tr>
            ${tests}
          </table>`
        : ""
    }${benches}
  </section>`;
}

function verdictSection(repo: string, v: VerdictView): Html {
  const thresholds = v.thresholds
    ? html`<p class="muted">
        thresholds: slowdown ${(v.thresholds.slowdown * 100).toFixed(1)}% · p &lt; ${v.thresholds.pValue} · retries ${v.thresholds.retries}
        · flake risk ${v.thresholds.flakeRisk}
      </p>`
    : "";
  const range = v.range
    ? html`<p>searched ${shaLink(repo, v.range.from)}..${shaLink(repo, v.range.to)} (${v.range.suspects} suspects)</p>`
    : "";
  const steps = v.steps.length
    ? html`<table>
        <tr>
          <th>step</th>
          <th>commit</th>
          <th>job</th>
          <th>outcome</th>
          <th>ran on</th>
        </tr>
        ${v.steps.map(
          (s) =>
            html`<tr>
              <td>${s.purpose}</td>
              <td>${shaLink(repo, s.sha)}</td>
              <td><code>${s.jobId}</code></td>
              <td class="${s.outcome === "fail" ? "bad" : "ok"}">${s.outcome}</td>
              <td>${s.where}</td>
            </tr>`,
        )}
      </table>`
    : "";
  const benches = v.benchmarks.length
    ? html`<table>
        <tr>
          <th>benchmark</th>
          <th>ratio</th>
          <th>p-value</th>
        </tr>
        ${v.benchmarks.map(
          (b) =>
            html`<tr>
              <td><a href="${benchmarkPath(repo, v.suite, b.name)}">${b.name}</a></td>
              <td>${b.ratio.toFixed(3)}×</td>
              <td>${b.pValue.toExponential(2)}</td>
            </tr>`,
        )}
      </table>`
    : "";
  return html`<section class="verdict ${v.type}" id="suite-${v.suite}" data-verdict="${v.type}">
    <h2>${v.type === "regression" ? `Regression (${v.kind})` : "Flaky"} in ${v.suite}</h2>
    <p>${v.summary}</p>
    ${v.lastGood ? html`<p>last good ${shaLink(repo, v.lastGood)}</p>` : ""}${range}
    ${v.failingTests.length ? html`<p>failing: ${v.failingTests.map((t) => html`<code>${t}</code> `)}</p>` : ""}
    ${v.flakyTests.length ? html`<p>flaky: ${v.flakyTests.map((t) => html`<code>${t}</code> `)}</p>` : ""}${benches}${thresholds}${steps}
  </section>`;
}

export function renderCommit(input: { repo: string; commit: ChainCommit & { branch: string }; view: CommitView }): Html {
  const { repo, commit, view } = input;
  const revert = view.revert
    ? html`<p class="tag revert">
        ${view.revert.outcome}${view.revert.revertPr ? html`: revert PR #${view.revert.revertPr}` : ""} — ${view.revert.reason}
      </p>`
    : "";
  const jobs = html`<table>
    <tr>
      <th>job</th>
      <th>suite</th>
      <th>purpose</th>
      <th>state</th>
      <th>result</th>
      <th>GPU</th>
      <th>host</th>
    </tr>
    ${view.jobs.map(
      (j) =>
        html`<tr>
          <td><code>${j.id}</code></td>
          <td>${j.suite}</td>
          <td>${j.purpose}</td>
          <td>${j.state}</td>
          <td>${j.status}</td>
          <td>${j.gpu}</td>
          <td>${j.host}</td>
        </tr>`,
    )}
  </table>`;
  const timeline = html`<table>
    ${view.timeline.map(
      (e) =>
        html`<tr>
          <td class="muted">${e.at.slice(0, 19).replace("T", " ")}</td>
          <td>${e.kind}</td>
          <td>${e.suite ?? ""}</td>
          <td>${e.text}</td>
        </tr>`,
    )}
  </table>`;
  // A grid cell links to #suite-<name>: the suite's verdict, or else its first result here.
  const anchored = new Set<string>();
  const reached = new Set(view.verdicts.map((v) => v.suite));
  for (const run of view.runs)
    if (!reached.has(run.suite)) {
      reached.add(run.suite);
      anchored.add(run.jobId);
    }
  return html`<h1 class="commit-title">${commit.title}</h1>
    <p>
      <code>${commit.sha}</code> by ${commit.author} on ${commit.branch} (#${commit.seq} on the chain) · parent
      ${shaLink(repo, commit.parent)} · landed ${commit.landedAt}
    </p>
    ${revert}${view.verdicts.map((v) => verdictSection(repo, v))}
    <h2>Jobs</h2>
    ${view.jobs.length ? jobs : html`<p class="muted">No job ran at this commit.</p>`}
    <h2>Results</h2>
    ${view.runs.map((r, i) => html`${anchored.has(r.jobId) ? html`<a id="suite-${r.suite}"></a>` : ""}${runSection(repo, r, i)}`)}
    <h2>Timeline</h2>
    ${timeline}`;
}
