/** How a revert commit names what it undoes: git's own title and message, which Sheriff's revert PRs use too. */

const REVERT_PREFIX = 'Revert "';
const REVERT_TITLE = /^Revert "(.*)"$/s;
const REVERTED_SHA = /This reverts commit ([0-9a-f]{7,40})/;

export function revertTitle(originalTitle: string): string {
  return `${REVERT_PREFIX}${originalTitle}"`;
}

/** The title of the commit a revert's title names, or undefined when it is no revert title. */
export function revertedTitle(title: string): string | undefined {
  return REVERT_TITLE.exec(title)?.[1];
}

/** Whether a title starts the way git's revert titles do (a person may have edited the rest). */
export function hasRevertPrefix(title: string): boolean {
  return title.startsWith(REVERT_PREFIX);
}

/** The sha a revert commit undoes, from git's own revert message; null for other commits. */
export function revertedSha(message: string): string | null {
  return REVERTED_SHA.exec(message)?.[1] ?? null;
}
