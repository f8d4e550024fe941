import nock from "nock";
import { afterEach, beforeAll } from "vitest";
import type { FakeGitHub } from "./fakeGitHub.js";
import type { TestRepo } from "./gitRepo.js";
import type { startSheriff } from "./sheriff.js";

export type Sheriff = Awaited<ReturnType<typeof startSheriff>>;

/**
 * The hooks every app-level test file needs: GitHub only through nock (Redis and local git still
 * reachable), and after each test the app, the fake and the repository the test made are torn down.
 */
export function appTestHooks(
  current: () => { sheriff?: Sheriff | undefined; github?: FakeGitHub | undefined; repo?: TestRepo | undefined },
): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });
  afterEach(async () => {
    const { sheriff, github, repo } = current();
    await sheriff?.close();
    github?.close();
    repo?.remove();
  });
}
