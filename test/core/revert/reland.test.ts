import { describe, expect, it } from "vitest";
import { relandsTitle } from "../../../src/core/revert/reland.js";

describe("relandsTitle", () => {
  it("takes the same title, a reland of it and the revert of its revert as candidates", () => {
    const culprit = "Use index_reduce for the paged KV gather (#812)";
    for (const title of [
      "Use index_reduce for the paged KV gather (#901)",
      "Reland: Use index_reduce for the paged KV gather",
      'Reland "Use index_reduce for the paged KV gather (#812)"',
      "[reland] Use index_reduce for the paged KV gather (#930)",
      'Revert "Revert "Use index_reduce for the paged KV gather (#812)""',
    ])
      expect(relandsTitle(culprit, title), title).toBe(true);
  });

  it("does not take a different change, a revert of the culprit or an empty title", () => {
    const culprit = "Use index_reduce for the paged KV gather (#812)";
    expect(relandsTitle(culprit, "Use index_reduce for the varlen gather")).toBe(false);
    expect(relandsTitle(culprit, 'Revert "Use index_reduce for the paged KV gather (#812)"')).toBe(false);
    expect(relandsTitle("", "")).toBe(false);
  });
});
