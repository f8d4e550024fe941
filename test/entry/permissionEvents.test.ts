import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { permissionScopeOf } from "../../src/entry/permissionEvents.js";
import { appTestHooks, type Sheriff } from "../helpers/appHooks.js";
import { FakeGitHub } from "../helpers/fakeGitHub.js";
import { TestRepo } from "../helpers/gitRepo.js";
import { startSheriff } from "../helpers/sheriff.js";

const commentFixture = JSON.parse(readFileSync(new URL("../fixtures/comments/pr-comment-created.json", import.meta.url), "utf8"));
const OWNER = "gpu-team";
const REPO = "flash-kernels";
const INSTALLATION = 2311213;
const repository = { name: REPO, full_name: `${OWNER}/${REPO}`, owner: { login: OWNER } };
const organization = { login: OWNER };

describe("permissionScopeOf", () => {
  it("names the cached permissions each membership webhook may have changed", () => {
    expect(permissionScopeOf("member", { action: "edited", member: { login: "carol" }, repository })).toEqual({
      owner: OWNER,
      repo: REPO,
      login: "carol",
    });
    expect(permissionScopeOf("membership", { action: "removed", scope: "team", member: { login: "carol" }, organization })).toEqual({
      owner: OWNER,
      login: "carol",
    });
    expect(permissionScopeOf("organization", { action: "member_removed", membership: { user: { login: "carol" } }, organization })).toEqual(
      {
        owner: OWNER,
        login: "carol",
      },
    );
    expect(permissionScopeOf("organization", { action: "renamed", organization })).toEqual({ owner: OWNER });
    expect(permissionScopeOf("team", { action: "removed_from_repository", team: { slug: "kernels" }, repository, organization })).toEqual({
      owner: OWNER,
      repo: REPO,
    });
    expect(permissionScopeOf("team", { action: "edited", team: { slug: "kernels" }, organization })).toEqual({ owner: OWNER });
    expect(permissionScopeOf("team_add", { team: { slug: "kernels" }, repository, organization })).toEqual({ owner: OWNER, repo: REPO });
    expect(permissionScopeOf("member", { action: "edited", repository })).toBeNull();
  });
});

describe("permission changes through the real app", () => {
  let sheriff: Sheriff | undefined;
  let repo: TestRepo | undefined;
  let github: FakeGitHub | undefined;
  appTestHooks(() => ({ sheriff, github, repo }));

  function comment(login: string, body: string, id: number) {
    return {
      ...commentFixture,
      issue: { ...commentFixture.issue, number: 7 },
      comment: { ...commentFixture.comment, id, body, user: { ...commentFixture.comment.user, login, type: "User" } },
      sender: { ...commentFixture.sender, login, type: "User" },
      repository: {
        ...commentFixture.repository,
        ...repository,
        owner: { ...commentFixture.repository.owner, login: OWNER },
        default_branch: "main",
      },
      installation: { id: INSTALLATION },
    };
  }

  it("drops cached answers on member, membership, organization and team webhooks", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    sheriff = await startSheriff("perm-events");
    const { store } = sheriff;
    const key = (r: string, login: string) => store.key("perm", `${OWNER}/${r}`, login);
    const fill = async () => {
      for (const r of [REPO, "docs"]) for (const login of ["carol", "dave"]) await store.redis.set(key(r, login), "write", "EX", 60);
    };
    const left = async () => (await store.redis.keys(`${store.prefix}:perm:*`)).map((k) => k.split(":perm:")[1]).sort();

    await fill();
    await sheriff.deliver("member", { action: "edited", member: { login: "carol" }, repository, installation: { id: INSTALLATION } });
    expect(await left()).toEqual([`${OWNER}/docs:carol`, `${OWNER}/docs:dave`, `${OWNER}/${REPO}:dave`]);
    await sheriff.deliver("membership", {
      action: "removed",
      scope: "team",
      member: { login: "dave" },
      organization,
      installation: { id: INSTALLATION },
    });
    expect(await left()).toEqual([`${OWNER}/docs:carol`]);
    await fill();
    await sheriff.deliver("team", { action: "removed_from_repository", repository, organization, installation: { id: INSTALLATION } });
    expect(await left()).toEqual([`${OWNER}/docs:carol`, `${OWNER}/docs:dave`]);
    await sheriff.deliver("organization", {
      action: "member_removed",
      membership: { user: { login: "carol" } },
      organization,
      installation: { id: INSTALLATION },
    });
    expect(await left()).toEqual([`${OWNER}/docs:dave`]);
  });

  it("checks an acting command's permission with GitHub each time: write removed a moment ago no longer acts", async () => {
    repo = new TestRepo();
    github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
    github.permissions.set("carol", "write");
    sheriff = await startSheriff("perm-live");
    await sheriff.deliver("issue_comment", comment("carol", "@sheriff rerun", 9201));
    // Within the cache's minute: a cached "write" would still act.
    github.permissions.set("carol", "read");
    await sheriff.deliver("issue_comment", comment("carol", "@sheriff rerun", 9202));
    const statuses = (await sheriff.ledger.commands(`${OWNER}/${REPO}`, 7)).map((c) => [c.commentId, c.status]);
    expect(statuses).toHaveLength(2);
    expect(statuses.filter(([, status]) => status === "refused")).toEqual([[9202, "refused"]]);
    expect(github.comments.filter((c) => c.issue === 7).at(-1)?.body).toMatch(/write access/i);
  });
});
