import { CELL_LABELS, type CellState, type Grid, type GridCell } from "../../core/dashboard/grid.js";
import { gridQuery, type GridFilters } from "../../core/dashboard/filters.js";
import { benchmarkPath, commitPath, ledgerPath, repoPath } from "../../core/dashboard/links.js";
import { shortSha } from "../../model/sha.js";
import { html, type Html } from "./html.js";

const LEGEND: CellState[] = ["passed", "failed", "flaky", "crashed", "timed-out", "pending", "superseded", "probed", "untested"];

function filterForm(repo: string, filters: GridFilters, suites: string[]): Html {
  return html`<form class="filters" method="get" action="${repoPath(repo)}">
    <input type="hidden" name="branch" value="${filters.branch}" />
    <label>suite <input name="suite" list="suites" value="${filters.suite ?? ""}" /></label>
    <datalist id="suites">${suites.map((s) => html`<option value="${s}"></option>`)}</datalist>
    <label>author <input name="author" value="${filters.author ?? ""}" /></label>
    <label>path <input name="path" placeholder="kernels/src/attn.cu" value="${filters.path ?? ""}" /></label>
    <button type="submit">filter</button> <a href="${repoPath(repo)}${gridQuery({ branch: filters.branch })}">clear</a>
  </form>`;
}

function legend(): Html {
  return html`<p class="legend">
    ${LEGEND.map((s) => html`<span class="${s}"><i class="${s}" style="${legendSwatch(s)}"></i>${CELL_LABELS[s]}</span>`)}
    <span><i style="outline:2px solid #000"></i>culprit</span>
  </p>`;
}

/** Legend swatches reuse the cell colours; the stylesheet styles cell links, so the swatch gets its own. */
function legendSwatch(state: CellState): string {
  const colours: Partial<Record<CellState, string>> = {
    passed: "#2da44e",
    failed: "#cf222e",
    flaky: "#bf8700",
    crashed: "#6e2b8a",
    "timed-out": "#953800",
    pending: "#8c959f",
    superseded: "#d0d7de",
    probed: "#0969da",
  };
  return colours[state] ? `background:${colours[state]}` : "border:1px dashed #8c959f";
}

/**
 * A cell: its colour is its state; a letter tells what else happened there (s: its own job was
 * superseded, b: bisection probed it), the tooltip says why and how many runs.
 */
function gridCell(repo: string, sha: string, cell: GridCell): Html {
  // Most cells of a page: kept to the bare cell, so a page of 200 commits stays small.
  if (cell.state === "not-touched" && cell.runs === 0)
    return html`<td class="cell not-touched" data-suite="${cell.suite}" data-state="not-touched"></td>`;
  const superseded = cell.superseded && cell.state !== "superseded";
  const probed = cell.probed && cell.state !== "probed";
  const also = [superseded ? "its own job was superseded" : "", probed ? "probed by bisection" : ""].filter(Boolean);
  const title = `${cell.suite}: ${CELL_LABELS[cell.state]} — ${cell.detail}${also.length ? `; ${also.join(", ")}` : ""} (${cell.runs} run${cell.runs === 1 ? "" : "s"})`;
  const flags = html`${cell.superseded ? html` data-superseded="true"` : ""}${cell.probed ? html` data-probed="true"` : ""}`;
  return html`<td
    class="cell ${cell.state}${cell.culprit ? " culprit" : ""}"
    data-suite="${cell.suite}"
    data-state="${cell.state}"
    ${flags}
  >
    <a href="${commitPath(repo, sha, cell.suite)}" title="${title}">${superseded ? "s" : ""}${probed ? "b" : ""}</a>
  </td>`;
}

export function renderGrid(input: {
  repo: string;
  filters: GridFilters;
  grid: Grid;
  more: boolean;
  note?: string;
  allSuites: string[];
}): Html {
  const { repo, filters, grid } = input;
  const header = html`<tr>
    <th>commit</th>
    <th>title</th>
    <th>author</th>
    <th>landed</th>
    ${grid.suites.map((s) => html`<th title="${s}"><a href="${benchmarkPath(repo, s)}" class="suite-name">${s}</a></th>`)}
  </tr>`;
  const rows = grid.rows.map((row) => {
    const c = row.commit;
    const marks = [
      row.culpritOf.length > 0
        ? html`<span class="tag culprit" data-culprit="${row.culpritOf.join(",")}">culprit: ${row.culpritOf.join(", ")}</span>`
        : "",
      row.revert?.revertPr
        ? html`<span class="tag revert">revert PR #${row.revert.revertPr}</span>`
        : row.revert
          ? html`<span class="tag revert">${row.revert.outcome}</span>`
          : "",
      c.isRevert ? html`<span class="tag">revert</span>` : "",
    ];
    return html`<tr data-sha="${c.sha}" class="${c.isRevert ? "revert-commit" : ""}">
      <td class="sha"><a href="${commitPath(repo, c.sha)}">${shortSha(c.sha)}</a></td>
      <td class="title">${c.title}${marks}</td>
      <td>${c.author}</td>
      <td class="muted landed">${c.landedAt.slice(0, 16).replace("T", " ")}</td>
      ${row.cells.map((cell) => gridCell(repo, c.sha, cell))}
    </tr>`;
  });
  const last = grid.rows.at(-1)?.commit.seq;
  const paging = html`<p>
    ${filters.before !== undefined ? html`<a href="${repoPath(repo)}${gridQuery({ ...filters, before: undefined })}">newest</a> · ` : ""}${
      input.more && last !== undefined
        ? html`<a rel="next" href="${repoPath(repo)}${gridQuery({ ...filters, before: last })}">older →</a>`
        : html`<span class="muted">oldest reached</span>`
    }
  </p>`;
  return html`<p><a href="${ledgerPath(repo)}">ledger: reverts, flaky tests, queues</a></p>
    ${filterForm(repo, filters, input.allSuites)}${input.note ? html`<p class="muted">${input.note}</p>` : ""}${legend()}
    <table class="grid">
      <thead>
        ${header}
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${grid.rows.length === 0 ? html`<p>No landed commits match.</p>` : ""}${paging}`;
}
