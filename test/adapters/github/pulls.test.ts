import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addLabel, openPull, openPullFrom } from "../../../src/adapters/github/pulls.js";
import { landingPull } from "../../../src/adapters/github/revertFacts.js";
import type { RepoRef } from "../../../src/model/repo.js";
import { API, blockNetwork, sha, testOctokit, takeUncalledMocks } from "../support.js";

const REPO: RepoRef = {
  owner: "gpu-team",
  repo: "flash-kernels",
  installationId: 2311213,
  cloneUrl: "https://github.com/gpu-team/flash-kernels.git",
  branch: "main",
};
const PATH = "/repos/gpu-team/flash-kernels";

/** The fields of GitHub's pull request JSON the adapter reads, plus some it does not. */
function pullJson(number: number, merged: boolean, login: string | null = "alice") {
  return {
    number,
    title: `PR ${number}`,
    state: merged ? "closed" : "open",
    merged_at: merged ? "2025-03-01T10:00:00Z" : null,
    user: login ? { login, type: "User" } : null,
    head: { ref: `feature-${number}`, sha: sha(`head-${number}`) },
    base: { ref: "main" },
    labels: [{ name: "sheriff-no-revert" }],
  };
}

beforeAll(blockNetwork);
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  const pending = takeUncalledMocks();
  expect(pending, "every expected GitHub call was made").toEqual([]);
});

describe("landingPull", () => {
  it("prefers the merged PR among those associated with the commit", async () => {
    const scope = nock(API)
      .get(`${PATH}/commits/${sha("c1")}/pulls`)
      .reply(200, [pullJson(7, false, "bob"), pullJson(12, true, "alice")]);
    expect(await landingPull(testOctokit(), REPO, sha("c1"))).toEqual({
      number: 12,
      title: "PR 12",
      author: "alice",
      labels: ["sheriff-no-revert"],
      mergedAt: "2025-03-01T10:00:00Z",
    });
    expect(scope.isDone()).toBe(true);
  });

  it("falls back to the first PR when none is merged, and to no author for a deleted user", async () => {
    nock(API)
      .get(`${PATH}/commits/${sha("c1")}/pulls`)
      .reply(200, [pullJson(7, false, null), pullJson(8, false)]);
    expect(await landingPull(testOctokit(), REPO, sha("c1"))).toMatchObject({ number: 7, title: "PR 7", author: "", mergedAt: null });
  });

  it("is null for a commit pushed straight to the branch", async () => {
    nock(API)
      .get(`${PATH}/commits/${sha("c1")}/pulls`)
      .reply(200, []);
    expect(await landingPull(testOctokit(), REPO, sha("c1"))).toBeNull();
  });
});

describe("openPullFrom", () => {
  it("asks for open PRs from the owner's head branch into the watched branch", async () => {
    const scope = nock(API)
      .get(`${PATH}/pulls`)
      .query({ state: "open", head: "gpu-team:sheriff/revert-abc", base: "main" })
      .reply(200, [pullJson(31, false, "sheriff[bot]")]);
    expect(await openPullFrom(testOctokit(), REPO, "sheriff/revert-abc")).toBe(31);
    expect(scope.isDone()).toBe(true);
  });

  it("is null when there is none", async () => {
    nock(API).get(`${PATH}/pulls`).query({ state: "open", head: "gpu-team:sheriff/revert-abc", base: "main" }).reply(200, []);
    expect(await openPullFrom(testOctokit(), REPO, "sheriff/revert-abc")).toBeNull();
  });
});

describe("openPull and addLabel", () => {
  it("opens a PR into the watched branch and returns its number", async () => {
    const scope = nock(API)
      .post(`${PATH}/pulls`, { base: "main", head: "sheriff/revert-abc", title: 'Revert "Faster fwd"', body: "Sheriff found ..." })
      .reply(201, pullJson(32, false, "sheriff[bot]"));
    expect(
      await openPull(testOctokit(), REPO, { head: "sheriff/revert-abc", title: 'Revert "Faster fwd"', body: "Sheriff found ..." }),
    ).toBe(32);
    expect(scope.isDone()).toBe(true);
  });

  it("labels an issue with one label", async () => {
    const scope = nock(API)
      .post(`${PATH}/issues/32/labels`, { labels: ["sheriff:revert"] })
      .reply(200, [{ name: "sheriff:revert" }]);
    await addLabel(testOctokit(), REPO, 32, "sheriff:revert");
    expect(scope.isDone()).toBe(true);
  });

  it("lets GitHub's errors through", async () => {
    nock(API).post(`${PATH}/issues/12/labels`).reply(403, { message: "Resource not accessible by integration" });
    await expect(addLabel(testOctokit(), REPO, 12, "sheriff:revert")).rejects.toMatchObject({ status: 403 });
  });
});
