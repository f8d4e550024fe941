import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authorizeUrl, exchangeCode, type OAuthClient } from "../../../src/entry/dashboard/github.js";
import { harness, type Harness } from "./helpers.js";

let h: Harness;
let client: OAuthClient;
const CALLBACK = "http://sheriff.test/sheriff/oauth/callback";

beforeEach(async () => {
  h = await harness();
  await h.sb.createRepo("acme", "kernels", { installationId: 7, private: true, files: { "README.md": "hi\n" } });
  h.sb.addUser("mona", { permissions: { "acme/kernels": "read" } });
  h.sb.addUser("mallory");
  client = { ...h.sb.oauthClient, webUrl: h.sb.url };
});
afterEach(async () => h.close());

/** Signs in on the authorize page as a browser would, and returns where GitHub sends it back. */
async function signIn(login: string, password: string, state = "st4te"): Promise<Response> {
  const page = await fetch(authorizeUrl(client, CALLBACK, state));
  expect(page.status).toBe(200);
  const form = await page.text();
  const hidden = Object.fromEntries(
    [...form.matchAll(/name="(client_id|redirect_uri|state)" value="([^"]*)"/g)].map((m) => [m[1], m[2]!.replace(/&amp;/g, "&")]),
  );
  return fetch(`${h.sb.url}/login/oauth/authorize`, {
    method: "POST",
    body: new URLSearchParams({ ...hidden, login, password }),
    redirect: "manual",
  });
}

describe("the app's user authorization flow", () => {
  it("signs a user in, exchanges the code once for a user token that reads what the user can read", async () => {
    const back = await signIn("mona", h.sb.userToken("mona"));
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(CALLBACK);
    expect(location.searchParams.get("state")).toBe("st4te");
    const code = location.searchParams.get("code")!;
    const token = await exchangeCode(client, code, CALLBACK);
    expect(token).toMatch(/^ghu_/);
    const user = h.user(token);
    expect((await user.rest.users.getAuthenticated()).data.login).toBe("mona");
    expect((await user.rest.repos.get({ owner: "acme", repo: "kernels" })).data.private).toBe(true);
    await expect(exchangeCode(client, code, CALLBACK)).rejects.toThrow(/incorrect or expired/);
  });

  it("refuses a wrong password, a wrong client secret and a redirect other than the one authorized", async () => {
    expect((await signIn("mona", "not-her-token")).status).toBe(401);
    const code = () => signIn("mona", h.sb.userToken("mona")).then((r) => new URL(r.headers.get("location")!).searchParams.get("code")!);
    await expect(exchangeCode({ ...client, clientSecret: "guess" }, await code(), CALLBACK)).rejects.toThrow(
      /client_secret passed are incorrect/,
    );
    await expect(exchangeCode(client, await code(), "http://elsewhere.test/cb")).rejects.toThrow(/redirect_uri MUST match/);
  });

  it("gives someone without access a token that cannot see the private repository", async () => {
    const back = await signIn("mallory", h.sb.userToken("mallory"));
    const token = await exchangeCode(client, new URL(back.headers.get("location")!).searchParams.get("code")!, CALLBACK);
    await expect(h.user(token).rest.repos.get({ owner: "acme", repo: "kernels" })).rejects.toMatchObject({ status: 404 });
  });
});
