import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../../src/adapters/store/ledger.js";
import { testDatabase } from "../../helpers/database.js";

const REPO = "gpu-team/flash-kernels";
const CULPRIT = "c".repeat(40);

describe("the ledger's revert limits", () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let ledger: Ledger;

  beforeEach(async () => {
    db = await testDatabase("revert-limits");
    ledger = new Ledger(db, () => new Date("2026-12-03T10:00:00Z"));
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it("decides once per culprit and trigger, and a retry gets the stored decision", async () => {
    const first = await ledger.decideRevertOnce(
      REPO,
      CULPRIT,
      "",
      () => ({ action: "open-pr" }),
      () => true,
    );
    const again = await ledger.decideRevertOnce(
      REPO,
      CULPRIT,
      "",
      () => ({ action: "comment-only" }),
      () => true,
    );
    expect(first).toEqual({ action: "open-pr" });
    expect(again).toEqual({ action: "open-pr" });
    expect(await ledger.revertsToday(REPO)).toBe(1);
    expect(await ledger.revertDecision(REPO, CULPRIT, "")).toEqual({ action: "open-pr" });
    expect(await ledger.revertDecision(REPO, CULPRIT, "carol")).toBeNull();
  });

  it("lets exactly one of several culprits deciding at once take the day's last place", async () => {
    const cap = 2;
    const culprits = Array.from({ length: 6 }, (_, i) => String(i).repeat(40));
    const decisions = await Promise.all(
      culprits.map((culprit) =>
        ledger.decideRevertOnce(
          REPO,
          culprit,
          "",
          (today) => ({ action: today < cap ? "open-pr" : "comment-only" }),
          (d) => d.action === "open-pr",
        ),
      ),
    );
    expect(decisions.filter((d) => d.action === "open-pr")).toHaveLength(cap);
    expect(await ledger.revertsToday(REPO)).toBe(cap);
  });

  it("keeps the newest pause or resumption as the repository's state", async () => {
    expect(await ledger.revertPause(REPO)).toBeNull();
    await ledger.recordRevertPause(REPO, { paused: true, reason: "driver upgrade", by: "carol", at: "2026-12-03T09:00:00.000Z" });
    expect(await ledger.revertPause(REPO)).toEqual({ paused: true, reason: "driver upgrade", by: "carol", at: "2026-12-03T09:00:00.000Z" });
    await ledger.recordRevertPause(REPO, { paused: false, reason: "", by: "dave", at: "2026-12-03T09:30:00.000Z" });
    expect(await ledger.revertPause(REPO)).toMatchObject({ paused: false, by: "dave" });
    expect(await ledger.revertPause("other/repo")).toBeNull();
  });
});
