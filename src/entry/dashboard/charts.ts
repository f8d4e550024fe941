import { html, jsonScript, raw, type Html } from "./html.js";

/**
 * A Chart.js chart: a canvas and its config as JSON. The page's one script (CHART_SCRIPT) draws
 * every canvas from its config; a point carrying `href` opens that page when clicked.
 */
export function chart(id: string, config: unknown, className = "chart"): Html {
  return html`<div class="${className}"><canvas id="${id}" data-chart="${id}-config"></canvas></div>
    ${jsonScript(`${id}-config`, config)}`;
}

const DRAW = `
for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
  const config = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  config.options.onClick = (event, elements, chart) => {
    const hit = elements[0];
    const point = hit && chart.data.datasets[hit.datasetIndex].data[hit.index];
    if (point && point.href) window.location.href = point.href;
  };
  const tooltip = (config.options.plugins = config.options.plugins || {}).tooltip = config.options.plugins.tooltip || {};
  tooltip.callbacks = { label: (item) => (item.raw && item.raw.label) || item.formattedValue };
  new Chart(canvas, config);
}`;

/** Chart.js (served from the app's node_modules) and the script that draws the page's charts. */
export function chartScripts(prefix: string): Html {
  return html`<script src="${prefix}/assets/chart.umd.min.js"></script>
    <script>
      ${raw(DRAW)};
    </script>`;
}
