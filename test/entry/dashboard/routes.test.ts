import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardStore } from "../../../src/adapters/store/dashboard.js";
import { Ledger } from "../../../src/adapters/store/ledger.js";
const REPO_KEY = "gpu-team/flash-kernels";
import type { DashboardGitHub } from "../../../src/entry/dashboard/github.js";
import { dashboardHandler } from "../../../src/entry/dashboard/routes.js";
import { SESSION_COOKIE, SessionCodec } from "../../../src/entry/dashboard/session.js";
import { parseConfig } from "../../../src/model/configFile.js";
import { testDatabase } from "../../helpers/database.js";
import { recordStory, sha } from "../../helpers/dashboardHistory.js";

const CONFIG = parseConfig(`suites:
  - name: half
    kind: builtin
    builtin: half-precision
    paths: ["kernels/src/convert*"]
    thresholds: { slowdown: 0.08 }
  - name: smoke
    kind: command
    command: "true"
    paths: ["tests/**"]
`);

let db: Awaited<ReturnType<typeof testDatabase>>;
let server: Server;
let base: string;
let privateRepo = true;
const sessions = new SessionCodec("a session secret for the tests");

/** GitHub as the dashboard asks it: mona can read the repository, mallory cannot. */
const github: DashboardGitHub = {
  async repoFacts(owner, repo) {
    return owner === "gpu-team" && repo === "flash-kernels"
      ? { private: privateRepo, config: { ...CONFIG, dashboard: { public: true } } }
      : null;
  },
  async canRead(token) {
    return token === "token-of-mona";
  },
  async userLogin(token) {
    return token.replace("token-of-", "");
  },
  async revertPulls() {
    return [
      { number: 7, state: "merged" },
      { number: 3, state: "closed" },
      { number: 9, state: "merged" },
    ];
  },
};

function signedIn(login: string): Record<string, string> {
  return { cookie: `${SESSION_COOKIE}=${sessions.seal({ login, token: `token-of-${login}`, expiresAt: Date.now() + 60_000 })}` };
}

/** The page with its whitespace runs (the templates' indentation) made single spaces, and none between tags. */
async function get(path: string, headers: Record<string, string> = signedIn("mona")) {
  const response = await fetch(`${base}${path}`, { headers, redirect: "manual" });
  return { status: response.status, text: (await response.text()).replace(/\s+/g, " ").replace(/> </g, "><"), headers: response.headers };
}

beforeAll(async () => {
  db = await testDatabase("dashboard_routes");
  const ledger = new Ledger(db);
  await recordStory(ledger);
  await ledger.quarantineHost(REPO_KEY, "gpu-host-9", {
    summary: "gpu-host-9 failed convert/f32->fp16 where other hosts passed it",
    evidence: [],
  });
  const handler = dashboardHandler({
    store: new DashboardStore(db),
    ledger,
    github,
    publicUrl: "http://sheriff.test",
    oauth: { clientId: "Iv1.test", clientSecret: "secret", webUrl: "http://github.test" },
    sessions,
    log: { warn: () => undefined, error: () => undefined },
    queues: [{ name: "gpu", getJobCounts: async () => ({ waiting: 3, active: 1 }) }],
  });
  server = createServer((req, res) => void handler(req, res).then((handled) => handled || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.cleanup();
});

describe("the grid page", () => {
  it("shows each commit's cells, the culprit with its revert PR, and escapes commit titles", async () => {
    const { status, text } = await get("/sheriff/gpu-team/flash-kernels");
    expect(status).toBe(200);
    const cell = (label: string, suite: string) =>
      new RegExp(`data-sha="${sha(label)}"[\\s\\S]*?data-suite="${suite}" data-state="([a-z-]+)"`).exec(text)?.[1];
    expect(cell("culprit", "half")).toBe("failed");
    expect(cell("tidy", "half")).toBe("failed");
    expect(cell("warm", "smoke")).toBe("flaky");
    expect(cell("revert", "half")).toBe("pending");
    expect(text).toMatch(new RegExp(`data-sha="${sha("culprit")}"[\\s\\S]*?data-state="failed" data-superseded="true" data-probed="true"`));
    expect(cell("base", "half")).toBe("passed");
    expect(text).toContain('data-culprit="half"');
    expect(text).toContain("revert PR #7");
    expect(text).toContain("culprit: a change &lt;b&gt;");
    expect(text).not.toContain("a change <b>");
  });

  it("filters by author and by path, and pages to older commits", async () => {
    const byDave = await get("/sheriff/gpu-team/flash-kernels?author=dave");
    expect(byDave.text.match(/<tr data-sha/g)).toHaveLength(2);
    const byPath = await get("/sheriff/gpu-team/flash-kernels?path=tests/smoke.py");
    expect(byPath.text.match(/<tr data-sha="([0-9a-f]+)"/g)).toEqual([`<tr data-sha="${sha("warm")}"`, `<tr data-sha="${sha("base")}"`]);
    const first = await get("/sheriff/gpu-team/flash-kernels?limit=2");
    const next = /rel="next" href="([^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, "&");
    const older = await get(next);
    expect(older.text).toContain(`data-sha="${sha("tidy")}"`);
    expect(older.text).not.toContain(`data-sha="${sha("docs")}"`);
  });

  it("answers a malformed filter with 400", async () => {
    expect((await get("/sheriff/gpu-team/flash-kernels?limit=100000")).status).toBe(400);
  });
});

describe("the commit page", () => {
  it("shows the verdict with its bisection steps, the jobs with their GPUs, and the results", async () => {
    const { status, text } = await get(`/sheriff/gpu-team/flash-kernels/commit/${sha("culprit").slice(0, 7)}`);
    expect(status).toBe(200);
    expect(text).toContain('id="suite-half" data-verdict="regression"');
    expect(text).toContain("culprit breaks convert/f32-&gt;bf16/rne");
    expect(text).toContain("slowdown 8.0%");
    expect(text).toMatch(
      /<td>bisect<\/td><td><a class="sha"[^>]*>[0-9a-f]{7}<\/a><\/td><td><code>half\.[0-9a-f]{12}\.bisect\.1<\/code><\/td><td class="bad">fail<\/td><td>NVIDIA H200 on gpu-host-1<\/td>/,
    );
    expect(text).toContain("pr-opened: revert PR #7");
    expect(text).toContain('<script src="/sheriff/assets/chart.umd.min.js">');
    const tidy = await get(`/sheriff/gpu-team/flash-kernels/commit/${sha("tidy")}`);
    expect(tidy.text.match(/id="suite-half"/g)).toHaveLength(1);
    expect(tidy.text).toMatch(/<a id="suite-half"><\/a><section class="run" data-job="half\.[0-9a-f]{12}\.landed\.0">/);
  });

  it("is 404 for a commit Sheriff never saw", async () => {
    expect((await get("/sheriff/gpu-team/flash-kernels/commit/0000000")).status).toBe(404);
  });
});

describe("the benchmark page", () => {
  it("charts the benchmark per GPU model, and Chart.js comes from the app itself", async () => {
    const { status, text } = await get("/sheriff/gpu-team/flash-kernels/bench/half");
    expect(status).toBe(200);
    const config = JSON.parse(/<script type="application\/json" id="benchmark-chart-config">(.*?)<\/script>/.exec(text)![1]!);
    const labels = config.data.datasets.map((d: { label: string }) => d.label);
    expect(labels).toEqual(["f32->bf16 2^26 on NVIDIA H100 80GB HBM3", "f32->bf16 2^26 on NVIDIA H200", "reference"]);
    expect(config.data.datasets[0].data).toHaveLength(4);
    const script = await fetch(`${base}/sheriff/assets/chart.umd.min.js`);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect(await script.text()).toContain("Chart");
  });
});

describe("the ledger page", () => {
  it("lists the culprits acted on with their outcome, the flaky tests and the queues' depths", async () => {
    const { status, text } = await get("/sheriff/gpu-team/flash-kernels/ledger");
    expect(status).toBe(200);
    expect(text).toContain('<span class="tag">pr-opened: 1</span>');
    expect(text).toContain(
      "Precision 67%: of Sheriff's last 3 revert PRs, 2 merged (0 of them relanded unchanged, counted against it), 1 closed unmerged (counted against it), 0 open.",
    );
    expect(text).toMatch(
      /<tr data-outcome="pr-opened"><td><a class="sha"[^>]*>[0-9a-f]{7}<\/a><\/td><td>half<\/td><td>pr-opened<\/td><td>#5<\/td><td>#7 merged<\/td><td>autoRevert is on<\/td>/,
    );
    expect(text).toContain("<td>smoke</td><td><code>smoke</code></td><td>1</td>");
    expect(text).toContain("<tr><td>gpu</td><td>3</td><td>1</td><td>0</td><td>0</td></tr>");
  });

  it("shows quarantined hosts and each GPU's jobs and utilisation over the last day", async () => {
    const { text } = await get("/sheriff/gpu-team/flash-kernels/ledger");
    expect(text).toContain('<tr data-open="true"><td><code>gpu-host-9</code></td><td>quarantined: canaries only</td>');
    expect(text).toContain("gpu-host-9 failed convert/f32-&gt;fp16 where other hosts passed it");
    // The story's 7 runs, 5 minutes each, on gpu-host-1 (no GPU index): 35 minutes of 24 hours.
    expect(text).toContain(
      '<tr data-quarantined="false"><td><code>gpu-host-1</code></td><td>–</td><td>7</td><td>0.58</td><td>2.4%</td></tr>',
    );
  });
});

describe("access", () => {
  it("sends a visitor of a private repository to GitHub's sign-in, with a state cookie", async () => {
    const { status, headers } = await get("/sheriff/gpu-team/flash-kernels?author=dave", {});
    expect(status).toBe(302);
    const location = new URL(headers.get("location")!);
    expect(location.origin + location.pathname).toBe("http://github.test/login/oauth/authorize");
    expect(location.searchParams.get("client_id")).toBe("Iv1.test");
    expect(location.searchParams.get("redirect_uri")).toBe("http://sheriff.test/sheriff/oauth/callback");
    expect(headers.get("set-cookie")).toContain(
      `sheriff_oauth_state=${location.searchParams.get("state")}%7C%2Fsheriff%2Fgpu-team%2Fflash-kernels%3Fauthor%3Ddave`,
    );
  });

  it("refuses someone who cannot read the repository, and a forged session", async () => {
    const refused = await get("/sheriff/gpu-team/flash-kernels", signedIn("mallory"));
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("@mallory cannot read this repository");
    const forged = await get("/sheriff/gpu-team/flash-kernels", {
      cookie: `${SESSION_COOKIE}=${Buffer.from('{"login":"mona"}').toString("base64url")}`,
    });
    expect(forged.status).toBe(302);
  });

  it("rejects a callback whose state this browser did not start", async () => {
    expect((await get("/sheriff/oauth/callback?code=abc&state=zzz", { cookie: "sheriff_oauth_state=yyy|/sheriff/" })).status).toBe(400);
  });

  it("opens a public repository's pages when its config says so", async () => {
    privateRepo = false;
    try {
      expect((await get("/sheriff/gpu-team/flash-kernels", {})).status).toBe(200);
    } finally {
      privateRepo = true;
    }
  });
});
