import { readFileSync } from "node:fs";
import type { Permission } from "../../src/model/permission.js";
import type { Sheriff } from "./appHooks.js";
import { FakeGitHub } from "./fakeGitHub.js";
import { TestRepo } from "./gitRepo.js";
import { startSheriff } from "./sheriff.js";

const pushFixture = JSON.parse(readFileSync(new URL("../fixtures/webhooks/push.json", import.meta.url), "utf8"));
const commentFixture = JSON.parse(readFileSync(new URL("../fixtures/comments/pr-comment-created.json", import.meta.url), "utf8"));
export const OWNER = "gpu-team";
export const REPO = "flash-kernels";
export const INSTALLATION = 2311213;
const CONFIG = `policy: { autoRevert: shadow }
suites:
  - { name: convert, kind: command, command: "sh test.sh", paths: ["kernels/**"], timeoutSeconds: 30 }
`;

export interface LandedWorld {
  repo: TestRepo;
  github: FakeGitHub;
  sheriff?: Sheriff;
}

/**
 * The real app on a repository where one PR by @bob has landed and its post-land `convert` run
 * passed (shadow mode), for tests of what people's commands then do. `keep` gets each part as
 * soon as it exists, so the test's hooks clean up even when landing fails half-way.
 */
export async function landOnePr(name: string, permissions: Record<string, Permission>, keep: (world: LandedWorld) => void) {
  const repo = new TestRepo();
  const github = new FakeGitHub(OWNER, REPO, repo.bare, INSTALLATION);
  keep({ repo, github });
  for (const [login, permission] of Object.entries(permissions)) github.permissions.set(login, permission);
  const sheriff: Sheriff = await startSheriff(name);
  keep({ repo, github, sheriff });
  const root = repo.commit("Initial kernels", { ".github/sheriff.yml": CONFIG, "test.sh": "exit 0\n", "kernels/convert.cu": "v1\n" });
  const change = repo.commit("Use the new conversion", { "kernels/convert.cu": "v2\n" });
  repo.push();
  const pr = github.landedPull(change, "Use the new conversion", "bob");
  await sheriff.deliver("push", {
    ...pushFixture,
    before: root,
    after: change,
    repository: { ...pushFixture.repository, clone_url: repo.bare },
    installation: { id: INSTALLATION },
  });
  await sheriff.waitFor(
    "the post-land run",
    async () => (await sheriff.ledger.runs(`${OWNER}/${REPO}`, "convert")).length >= 1 && (await sheriff.idle()),
  );
  return { repo, github, sheriff, change, pr };
}

/** An `issue_comment.created` webhook of `login` writing `body` on the PR. */
export function prComment(pr: number, login: string, body: string, id: number) {
  return {
    ...commentFixture,
    issue: { ...commentFixture.issue, number: pr },
    comment: { ...commentFixture.comment, id, body, user: { ...commentFixture.comment.user, login, type: "User" } },
    sender: { ...commentFixture.sender, login, type: "User" },
    repository: {
      ...commentFixture.repository,
      name: REPO,
      full_name: `${OWNER}/${REPO}`,
      owner: { ...commentFixture.repository.owner, login: OWNER },
      default_branch: "main",
    },
    installation: { id: INSTALLATION },
  };
}
