import jwt from "jsonwebtoken";
import { generateKeyPairSync } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_ID, harness, PRIVATE_KEY, type Harness } from "./helpers.js";

// Response bodies are GitHub-shaped JSON; the assertions check their fields.
type Json = Record<string, any>;

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, files: { "README.md": "hi\n" } });
});
afterEach(async () => h.close());

const call = (url: string, auth?: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, {
    ...init,
    headers: { accept: "application/vnd.github+json", ...(auth ? { authorization: auth } : {}), ...(init.headers ?? {}) },
  });

describe("app authentication", () => {
  it("accepts a valid app JWT and rejects other keys, expired tokens and wrong issuers", async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = jwt.sign({ iat: now - 30, exp: now + 540, iss: APP_ID }, PRIVATE_KEY, { algorithm: "RS256" });
    const ok = await call(`${h.sb.apiUrl}/app`, `Bearer ${good}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).slug).toBe("sheriff-test");

    const other = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const forged = jwt.sign({ iat: now - 30, exp: now + 540, iss: APP_ID }, other.privateKey, { algorithm: "RS256" });
    const r1 = await call(`${h.sb.apiUrl}/app`, `Bearer ${forged}`);
    expect(r1.status).toBe(401);
    const b1 = (await r1.json()) as Json;
    expect(b1.message).toMatch(/could not be decoded/);
    expect(b1.documentation_url).toMatch(/^https:\/\/docs\.github\.com/);

    const expired = jwt.sign({ iat: now - 1200, exp: now - 600, iss: APP_ID }, PRIVATE_KEY, { algorithm: "RS256" });
    const r2 = await call(`${h.sb.apiUrl}/app`, `Bearer ${expired}`);
    expect(r2.status).toBe(401);
    expect(((await r2.json()) as Json).message).toMatch(/'Expiration time' claim/);

    // within GitHub's clock-skew tolerance
    const skewed = jwt.sign({ iat: now + 30, exp: now - 30 + 600, iss: APP_ID }, PRIVATE_KEY, { algorithm: "RS256" });
    expect((await call(`${h.sb.apiUrl}/app`, `Bearer ${skewed}`)).status).toBe(200);

    const wrongIss = jwt.sign({ iat: now - 30, exp: now + 540, iss: 999 }, PRIVATE_KEY, { algorithm: "RS256" });
    expect((await call(`${h.sb.apiUrl}/app`, `Bearer ${wrongIss}`)).status).toBe(401);
    expect((await call(`${h.sb.apiUrl}/app`)).status).toBe(401);
  });

  it("issues installation tokens through the JWT flow and scopes them to the installation", async () => {
    const { data: inst } = await h.appJwt.rest.apps.getRepoInstallation({ owner: "acme", repo: "kernels" });
    expect(inst.id).toBe(7);
    const { data: list } = await h.appJwt.rest.apps.listInstallations();
    expect(list.map((i) => i.id)).toEqual([7]);
    const { data: tok } = await h.appJwt.rest.apps.createInstallationAccessToken({ installation_id: 7 });
    expect(tok.token).toMatch(/^ghs_/);
    expect(Date.parse(tok.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);

    const repos = await call(`${h.sb.apiUrl}/installation/repositories`, `token ${tok.token}`);
    expect(((await repos.json()) as Json).repositories.map((r: any) => r.full_name)).toEqual(["acme/kernels"]);
    // Bearer works too
    expect((await call(`${h.sb.apiUrl}/repos/acme/kernels`, `Bearer ${tok.token}`)).status).toBe(200);
    // the installation token is not an app JWT
    expect((await call(`${h.sb.apiUrl}/app`, `token ${tok.token}`)).status).toBe(401);
    // a repo outside the installation is invisible
    await h.sb.createRepo("other", "stuff", { installationId: 8 });
    expect((await call(`${h.sb.apiUrl}/repos/other/stuff`, `token ${tok.token}`)).status).toBe(404);
    const bad = await call(`${h.sb.apiUrl}/repos/acme/kernels`, "token ghs_nope");
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as Json).message).toBe("Bad credentials");

    // the octokit app auth strategy (as Probot uses it) works end to end
    const { data: repo } = await h.app.rest.repos.get({ owner: "acme", repo: "kernels" });
    expect(repo.default_branch).toBe("main");
  });

  it("enforces user permissions and reports them through the collaborator API", async () => {
    const reader = h.sb.addUser("rita", { permissions: { "acme/kernels": "read" } });
    const writer = h.sb.addUser("will", { permissions: { "acme/kernels": "write" } });
    h.sb.addUser("nobody");
    const asReader = h.user(reader.token);
    await expect(asReader.rest.repos.get({ owner: "acme", repo: "kernels" })).resolves.toBeTruthy();
    await expect(
      asReader.rest.git.createRef({ owner: "acme", repo: "kernels", ref: "refs/heads/x", sha: "0".repeat(40) }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(h.user(h.sb.userToken("nobody")).rest.repos.get({ owner: "acme", repo: "kernels" })).rejects.toMatchObject({
      status: 404,
    });
    const head = (await h.user(writer.token).rest.repos.getBranch({ owner: "acme", repo: "kernels", branch: "main" })).data.commit.sha;
    await expect(
      h.user(writer.token).rest.git.createRef({ owner: "acme", repo: "kernels", ref: "refs/heads/x", sha: head }),
    ).resolves.toMatchObject({ status: 201 });

    const perm = async (u: string): Promise<any> =>
      (await h.app.rest.repos.getCollaboratorPermissionLevel({ owner: "acme", repo: "kernels", username: u })).data;
    expect((await perm("rita")).permission).toBe("read");
    expect((await perm("will")).permission).toBe("write");
    expect((await perm("will")).user.login).toBe("will");
    expect((await perm("nobody")).permission).toBe("none");
    await expect(perm("ghost-of-nobody")).rejects.toMatchObject({ status: 404 });
  });

  it("answers unsupported routes with 501 naming the route", async () => {
    const tok = h.sb.installationToken(7);
    const r = await call(`${h.sb.apiUrl}/repos/acme/kernels/deployments`, `token ${tok}`, { method: "POST", body: "{}" });
    expect(r.status).toBe(501);
    expect(((await r.json()) as Json).message).toBe("sandbox does not implement POST /api/v3/repos/acme/kernels/deployments");
    await expect(h.app.request("GET /repos/{owner}/{repo}/releases", { owner: "acme", repo: "kernels" })).rejects.toMatchObject({
      status: 501,
    });
  });
});
