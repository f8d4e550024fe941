import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { harness, type Harness } from "./helpers.js";

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n", "src/a.cu": "// a\n" } });
});
afterEach(async () => h.close());

describe("git over smart HTTP", () => {
  it("clones with an installation token, pushes, and sends a signed push webhook", async () => {
    const token = h.sb.installationToken(7);
    const wc = await h.clone("acme", "kernels", token);
    expect(await h.git(wc, "log", "--format=%s")).toBe("Initial commit\n");
    h.write(wc, "src/b.cu", "// b\n");
    h.write(wc, "README.md", "hello\n");
    await h.git(wc, "add", "-A");
    await h.git(wc, "commit", "-q", "-m", "Add b");
    await h.git(wc, "rm", "-q", "src/a.cu");
    await h.git(wc, "commit", "-q", "-m", "Drop a");
    const before = (await h.git(wc, "rev-parse", "origin/main")).trim();
    await h.git(wc, "push", "-q", "origin", "main");
    const after = (await h.git(wc, "rev-parse", "HEAD")).trim();
    await h.sb.waitForIdle();

    const pushes = h.events("push");
    expect(pushes).toHaveLength(1);
    const push = pushes[0]!;
    expect(push.signatureValid).toBe(true);
    expect(push.userAgent).toBe("GitHub-Hookshot/sandbox");
    expect(push.delivery).toMatch(/^[0-9a-f-]{36}$/);
    const p = push.payload;
    expect(p).toMatchObject({ ref: "refs/heads/main", before, after, created: false, deleted: false, forced: false, base_ref: null });
    expect(p.commits.map((c: any) => c.message)).toEqual(["Add b", "Drop a"]);
    expect(p.commits[0]).toMatchObject({ added: ["src/b.cu"], modified: ["README.md"], removed: [] });
    expect(p.commits[1]).toMatchObject({ added: [], modified: [], removed: ["src/a.cu"] });
    expect(p.commits[0].author).toMatchObject({ name: "Alice", email: "alice@example.com" });
    expect(p.head_commit.id).toBe(after);
    expect(p.repository).toMatchObject({ full_name: "acme/kernels", default_branch: "main", clone_url: `${h.sb.url}/acme/kernels.git` });
    expect(p.installation.id).toBe(7);
    expect(p.sender).toMatchObject({ login: "sheriff-test[bot]", type: "Bot" });

    // the REST API sees the new history
    const { data: commit } = await h.app.rest.repos.getCommit({ owner: "acme", repo: "kernels", ref: after });
    expect(commit.files?.map((f) => [f.filename, f.status])).toEqual([["src/a.cu", "removed"]]);
    const delivery = h.sb.deliveries().find((d) => d.id === push.delivery)!;
    expect(delivery.status).toBe(200);
  });

  it("flags forced pushes, branch creation and deletion", async () => {
    const user = h.sb.addUser("alice", { permissions: { "acme/kernels": "write" }, email: "alice@example.com" });
    const wc = await h.clone("acme", "kernels", user.token, "alice");
    await h.git(wc, "checkout", "-q", "-b", "feature");
    h.write(wc, "f.txt", "1\n");
    await h.git(wc, "add", "f.txt");
    await h.git(wc, "commit", "-q", "-m", "f1");
    await h.git(wc, "push", "-q", "origin", "feature");
    await h.git(wc, "commit", "-q", "--amend", "-m", "f1 amended");
    await h.git(wc, "push", "-q", "--force", "origin", "feature");
    await h.git(wc, "push", "-q", "origin", "--delete", "feature");
    await h.sb.waitForIdle();
    const pushes = h.events("push").map((e) => e.payload);
    expect(pushes.map((p) => [p.created, p.deleted, p.forced])).toEqual([
      [true, false, false],
      [false, false, true],
      [false, true, false],
    ]);
    expect(pushes[0]!.commits.map((c: any) => c.message)).toEqual(["f1"]);
    expect(pushes[0]!.commits[0].author.username).toBe("alice");
    expect(pushes[0]!.pusher.name).toBe("alice");
    expect(pushes[0]!.sender.login).toBe("alice");
    expect(pushes[2]!.after).toBe("0".repeat(40));
  });

  it("rejects pushes without write access and clones without credentials", async () => {
    const reader = h.sb.addUser("rita", { permissions: { "acme/kernels": "read" } });
    const wc = await h.clone("acme", "kernels", reader.token, "rita");
    h.write(wc, "x", "x\n");
    await h.git(wc, "add", "x");
    await h.git(wc, "commit", "-q", "-m", "x");
    await expect(h.git(wc, "push", "-q", "origin", "main")).rejects.toThrow(/403|denied/);
    await expect(h.git(h.dir, "clone", "-q", `${h.sb.url}/acme/kernels.git`, "anon")).rejects.toThrow();
    await expect(h.clone("acme", "kernels", "ghs_bogus")).rejects.toThrow();
    await h.sb.waitForIdle();
    expect(h.events("push")).toHaveLength(0);
  });

  it("emits the same push webhook for ref updates through the REST API", async () => {
    const { data: main } = await h.app.rest.git.getRef({ owner: "acme", repo: "kernels", ref: "heads/main" });
    const base = main.object.sha;
    const { data: blob } = await h.app.rest.git.createBlob({ owner: "acme", repo: "kernels", content: "new\n" });
    const { data: baseCommit } = await h.app.rest.git.getCommit({ owner: "acme", repo: "kernels", commit_sha: base });
    const { data: tree } = await h.app.rest.git.createTree({
      owner: "acme",
      repo: "kernels",
      base_tree: baseCommit.tree.sha,
      tree: [
        { path: "docs/new.md", mode: "100644", type: "blob", sha: blob.sha },
        { path: "src/a.cu", mode: "100644", type: "blob", sha: null },
      ],
    });
    const { data: treeData } = await h.app.rest.git.getTree({ owner: "acme", repo: "kernels", tree_sha: tree.sha, recursive: "1" });
    expect(treeData.tree.map((e) => e.path).sort()).toEqual(["README.md", "docs", "docs/new.md"]);
    const { data: commit } = await h.app.rest.git.createCommit({
      owner: "acme",
      repo: "kernels",
      message: "api commit",
      tree: tree.sha,
      parents: [base],
    });
    await h.app.rest.git.updateRef({ owner: "acme", repo: "kernels", ref: "heads/main", sha: commit.sha });
    // non-fast-forward without force is refused
    await expect(h.app.rest.git.updateRef({ owner: "acme", repo: "kernels", ref: "heads/main", sha: base })).rejects.toMatchObject({
      status: 422,
    });
    await h.app.rest.git.updateRef({ owner: "acme", repo: "kernels", ref: "heads/main", sha: base, force: true });
    await h.sb.waitForIdle();
    const pushes = h.events("push").map((e) => e.payload);
    expect(pushes).toHaveLength(2);
    expect(pushes[0]).toMatchObject({ before: base, after: commit.sha, forced: false });
    expect(pushes[0]!.commits[0]).toMatchObject({ added: ["docs/new.md"], removed: ["src/a.cu"] });
    expect(pushes[1]).toMatchObject({ before: commit.sha, after: base, forced: true, commits: [] });

    const { data: content } = await h.app.rest.repos.getContent({ owner: "acme", repo: "kernels", path: "README.md" });
    expect(Buffer.from((content as any).content, "base64").toString()).toBe("hi\n");
    await expect(h.app.rest.repos.getContent({ owner: "acme", repo: "kernels", path: "nope.md" })).rejects.toMatchObject({ status: 404 });
  });
});

describe("wire details", () => {
  it("accepts gzip-compressed smart HTTP request bodies", async () => {
    const { gzipSync } = await import("node:zlib");
    const head = (await h.app.rest.repos.getBranch({ owner: "acme", repo: "kernels", branch: "main" })).data.commit.sha;
    const want = `want ${head}\n`;
    const pkt = (s: string): string => (s.length + 4).toString(16).padStart(4, "0") + s;
    const body = gzipSync(Buffer.from(pkt(want) + "0000" + pkt("done\n")));
    const token = h.sb.installationToken(7);
    const res = await fetch(`${h.sb.url}/acme/kernels.git/git-upload-pack`, {
      method: "POST",
      headers: {
        "content-type": "application/x-git-upload-pack-request",
        "content-encoding": "gzip",
        authorization: "Basic " + Buffer.from(`x-access-token:${token}`).toString("base64"),
      },
      body,
    });
    expect(res.status).toBe(200);
    const out = Buffer.from(await res.arrayBuffer());
    expect(out.subarray(0, 8).toString()).toBe("0008NAK\n");
    expect(out.includes(Buffer.from("PACK"))).toBe(true);
  });

  it("paginates long lists with a Link header and records failed deliveries", async () => {
    const token = h.sb.installationToken(7);
    const wc = await h.clone("acme", "kernels", token);
    for (const i of [1, 2, 3]) {
      h.write(wc, `n${i}.txt`, `${i}\n`);
      await h.git(wc, "add", "-A");
      await h.git(wc, "commit", "-q", "-m", `n${i}`);
    }
    await h.git(wc, "push", "-q", "origin", "main");
    const page1 = await h.app.rest.repos.listCommits({ owner: "acme", repo: "kernels", per_page: 2 });
    expect(page1.data.map((c) => c.commit.message)).toEqual(["n3", "n2"]);
    expect(page1.headers.link).toMatch(/page=2>; rel="next"/);
    const all = await h.app.paginate(h.app.rest.repos.listCommits, { owner: "acme", repo: "kernels", per_page: 2 });
    expect(all.map((c) => c.commit.message)).toEqual(["n3", "n2", "n1", "Initial commit"]);

    // a sandbox whose app is down: deliveries fail and are recorded, never thrown
    const { startSandbox } = await import("../../../src/dev/sandbox/server.js");
    const { PUBLIC_KEY } = await import("./helpers.js");
    const down = await startSandbox({
      dataDir: `${h.dir}/down`,
      app: { id: 1, slug: "x", publicKey: PUBLIC_KEY },
      webhook: { url: "http://127.0.0.1:9/hook", secret: "s" },
    });
    try {
      await down.createRepo("o", "r", { installationId: 1 });
      await fetch(`${down.apiUrl}/repos/o/r/issues`, {
        method: "POST",
        headers: { authorization: `token ${down.installationToken(1)}` },
        body: JSON.stringify({ title: "t" }),
      });
      await down.waitForIdle();
      const [d] = down.deliveries();
      expect(d).toMatchObject({ event: "issues", action: "opened", status: null });
      expect(d!.error).toBeTruthy();
    } finally {
      await down.close();
    }
  });
});
