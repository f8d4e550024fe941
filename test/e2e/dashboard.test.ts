import { existsSync } from "node:fs";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { chromium, type Browser, type Page } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startDemoWorld } from "../../src/dev/demo/main.js";
import { OWNER, playStory, REPO, type DemoReport } from "../../src/dev/demo/run.js";
import type { World } from "../../src/dev/demo/world.js";
import { compiledEntry, ensureAddon } from "../runner/support.js";

/** The machine's Chromium (Debian's `chromium`; .ci/run installs it where missing). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Set to a folder (docs/) to write the README's screenshots from this run. */
const SCREENSHOTS = process.env.SHERIFF_SCREENSHOTS;

let world: World;
let report: DemoReport;
let browser: Browser;

async function shoot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(PROJECT_ROOT, SCREENSHOTS, name), fullPage: false });
}

/** Signs in on the stand-in's authorize page the dashboard sent the browser to. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.waitForURL(/\/login\/oauth\/authorize/);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', world.sandbox.userToken(login));
  await page.click('button[name="authorize"]');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  ensureAddon();
  world = await startDemoWorld({ log: pino({ level: "silent" }), harness: { entry: compiledEntry() } });
  report = await playStory(world, PROJECT_ROOT, () => undefined);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 25 * 60_000);

afterAll(async () => {
  await browser?.close();
  await world?.close();
});

describe("the dashboard in a browser, after the demo day", () => {
  it("shows a signed-in maintainer the reverted commits, the flaky smoke test, the superseded commit, a chart and a decision page", async () => {
    expect(report.problems).toEqual([]);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${world.dashboardUrl}/${OWNER}/${REPO}`);
    await signIn(page, "mona");
    await page.waitForSelector("table.grid");
    await shoot(page, "dashboard-grid.png");

    const bad = report.steps.filter((s) => s.step.expect === "bad");
    expect(bad).toHaveLength(3);
    for (const step of bad) {
      const row = page.locator(`tr[data-sha="${step.sha}"]`);
      await expect(row.locator(".tag.culprit").textContent()).resolves.toBe(`culprit: ${step.step.breaks}`);
      await expect(row.locator(".tag.revert").textContent()).resolves.toMatch(/^revert PR #\d+$/);
      await expect(row.locator(`td[data-suite="${step.step.breaks}"]`).getAttribute("data-state")).resolves.toBe("failed");
    }
    for (const flaky of report.flaky) {
      const cell = page.locator(`tr[data-sha="${flaky.sha}"] td[data-suite="${flaky.suite}"]`);
      await expect(cell.getAttribute("data-state")).resolves.toBe("flaky");
    }
    const bf16 = report.steps.find((s) => s.step.breaks === "half-precision")!;
    await expect(page.locator(`tr[data-sha="${bf16.sha}"] td[data-suite="half-precision"]`).getAttribute("data-superseded")).resolves.toBe(
      "true",
    );

    await page.click('th a.suite-name:text-is("half-precision")');
    // The chart exists once the page's scripts ran (after the canvas is parsed).
    await page.waitForFunction(
      () => (globalThis as { Chart?: { getChart(id: string): unknown } }).Chart?.getChart("benchmark-chart") !== undefined,
    );
    const drawn = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          Chart: {
            getChart(id: string): {
              data: { datasets: { data: unknown[] }[] };
              getDatasetMeta(i: number): { data: { x: number; y: number }[] };
            };
          };
        }
      ).Chart.getChart("benchmark-chart");
      const meta = chart.getDatasetMeta(0);
      return {
        points: chart.data.datasets[0]!.data.length,
        drawn: meta.data.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).length,
      };
    });
    expect(drawn.points).toBeGreaterThan(3);
    expect(drawn.drawn).toBe(drawn.points);
    await shoot(page, "dashboard-benchmark.png");

    const gh = new Octokit({ auth: world.sandbox.userToken("mona"), baseUrl: world.sandbox.apiUrl });
    const revertPr = (
      await gh.rest.pulls.get({
        owner: OWNER,
        repo: REPO,
        pull_number: report.revertPulls.find((p) => p.head.endsWith(bf16.sha.slice(0, 7)))!.number,
      })
    ).data;
    const link = /\[Why Sheriff decided this: the decision page\]\(([^)]+)\)/.exec(revertPr.body ?? "")?.[1];
    expect(link).toBe(`${world.dashboardUrl}/${OWNER}/${REPO}/commit/${bf16.sha}#suite-half-precision`);
    await page.goto(link!);
    const verdict = page.locator('section#suite-half-precision[data-verdict="regression"]');
    await expect(verdict.locator("h2").textContent()).resolves.toBe("Regression (correctness) in half-precision");
    await expect(verdict.locator("table td", { hasText: "bisect" }).count()).resolves.toBeGreaterThan(0);
    await shoot(page, "dashboard-commit.png");

    // The ledger reads the revert PRs' states from GitHub: the day's three are still open.
    await page.goto(`${world.dashboardUrl}/${OWNER}/${REPO}/ledger`);
    const precision = (await page.locator("p.precision").textContent())?.replace(/\s+/g, " ");
    expect(precision).toContain(
      "of Sheriff's last 3 revert PRs, 0 merged (0 of them relanded unchanged, counted against it), 0 closed unmerged (counted against it), 3 open",
    );
    await expect(page.locator('tr[data-outcome="pr-opened"]').count()).resolves.toBe(3);
    await context.close();
  }, 120_000);

  it("refuses someone who cannot read the private repository", async () => {
    world.sandbox.addUser("mallory");
    const context = await browser.newContext();
    const page = await context.newPage();
    const answered = page.waitForResponse((r) => r.url().startsWith(`${world.dashboardUrl}/${OWNER}/${REPO}`) && r.status() === 403);
    await page.goto(`${world.dashboardUrl}/${OWNER}/${REPO}`);
    await signIn(page, "mallory");
    await answered;
    await expect(page.locator("p.refused").textContent()).resolves.toContain("@mallory cannot read this repository on GitHub");
    await expect(page.locator("table.grid").count()).resolves.toBe(0);
    await context.close();
  }, 60_000);
});
