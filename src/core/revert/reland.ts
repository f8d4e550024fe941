/**
 * Whether a landed commit's title says it lands a reverted culprit again: the same title (a PR
 * suffix like " (#123)" aside), "Reland …" / "Re-land …" / "[reland] …" of it, or the revert of
 * its revert. Only a candidate: the change itself must match too (the caller compares patch ids).
 */
export function relandsTitle(culpritTitle: string, title: string): boolean {
  const core = normalized(culpritTitle);
  return core.length > 0 && normalized(title) === core;
}

function normalized(title: string): string {
  let t = title.trim().replace(/\s*\(#\d+\)$/, "");
  for (;;) {
    const revertOfRevert = /^Revert "Revert "(.*)""$/.exec(t);
    if (revertOfRevert) {
      t = revertOfRevert[1]!.replace(/\s*\(#\d+\)$/, "");
      continue;
    }
    const reland = /^(?:\[re-?land\]|re-?land(?:ed)?:?)\s+(.*)$/i.exec(t);
    if (reland) {
      t = reland[1]!.replace(/^"(.*)"$/, "$1").replace(/\s*\(#\d+\)$/, "");
      continue;
    }
    return t.toLowerCase();
  }
}
