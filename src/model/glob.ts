/**
 * The glob syntax of a suite's `paths`, and a matcher that runs in time proportional to the
 * pattern times the path, whatever the pattern: no backtracking regular expression, so no
 * pattern in a config can block the process.
 *
 * Syntax: `/` separates segments; `**` as a whole segment matches zero or more segments;
 * `*` any characters within a segment (dotfiles included); `?` one character; `[abc]`, `[a-z]`,
 * `[!a]` / `[^a]` one character of (not of) a set; `{a,b}` alternatives (nested, expanded up to
 * a bound); `\` escapes the next character; a leading `!` makes the pattern exclude.
 */

export const GLOB_LIMITS = {
  /** Characters of one pattern as written. */
  patternLength: 256,
  /** Patterns one `{a,b}` pattern may expand to. */
  expansions: 64,
  /** `*` in one segment (after `**` inside a segment counts as one `*`). */
  starsPerSegment: 5,
  /** `**` segments in one pattern. */
  globstarsPerPattern: 4,
  /** Patterns (after brace expansion) of one suite, and of a whole config. */
  patternsPerSuite: 200,
  patternsPerConfig: 1000,
} as const;

export class GlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GlobError";
  }
}

type CharTest = { kind: "char"; code: number } | { kind: "any" } | { kind: "set"; negated: boolean; ranges: [number, number][] };
type SegmentToken = CharTest | { kind: "star" };
type Segment = { kind: "globstar" } | { kind: "literal"; text: string } | { kind: "wild"; tokens: SegmentToken[]; stars: number };

interface CompiledGlob {
  negated: boolean;
  segments: Segment[];
}

/** Splits a path into the segments the matcher compares; do it once per path for many patterns. */
export function pathSegments(path: string): string[] {
  return path.split("/");
}

/** Where the brace group that starts at `open` closes, or -1; also the top-level comma positions. */
function braceGroup(pattern: string, open: number): { close: number; commas: number[] } {
  const commas: number[] = [];
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") i++;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return { close: i, commas };
    else if (ch === "," && depth === 1) commas.push(i);
  }
  return { close: -1, commas };
}

/** The first `{...}` with a top-level comma; a group without one (`{a}`) is literal text, as in picomatch. */
function firstAlternation(pattern: string): { open: number; close: number; commas: number[] } | null {
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") i++;
    else if (ch === "{") {
      const group = braceGroup(pattern, i);
      if (group.close < 0) return null;
      if (group.commas.length > 0) return { open: i, ...group };
      if (/^\{[^{}]*\.\.[^{}]*\}$/.test(pattern.slice(i, group.close + 1))) {
        throw new GlobError("brace ranges like {1..3} are not supported; list the alternatives, {1,2,3}");
      }
    }
  }
  return null;
}

/** Expands `{a,b}` depth first, stopping as soon as there are more than `GLOB_LIMITS.expansions` results. */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  const expand = (p: string): void => {
    const group = firstAlternation(p);
    if (!group) {
      out.push(p);
      if (out.length > GLOB_LIMITS.expansions) {
        throw new GlobError(`its {…} alternatives expand to more than ${GLOB_LIMITS.expansions} patterns`);
      }
      return;
    }
    const bounds = [group.open, ...group.commas, group.close];
    for (let k = 0; k + 1 < bounds.length; k++) {
      expand(p.slice(0, group.open) + p.slice(bounds[k]! + 1, bounds[k + 1]) + p.slice(group.close + 1));
    }
  };
  expand(pattern);
  return out;
}

/** Parses `[...]` starting at `open`; null when it does not close (then `[` is a literal, as in picomatch). */
function parseSet(segment: string, open: number): { test: CharTest; end: number } | null {
  let i = open + 1;
  let negated = false;
  if (segment[i] === "!" || segment[i] === "^") {
    negated = true;
    i++;
  }
  const ranges: [number, number][] = [];
  let first = true;
  while (i < segment.length) {
    let ch = segment[i]!;
    if (ch === "]" && !first) return { test: { kind: "set", negated, ranges }, end: i };
    if (ch === "[" && segment[i + 1] === ":")
      throw new GlobError("POSIX classes like [[:alpha:]] are not supported; write the range, [a-zA-Z]");
    if (ch === "\\" && i + 1 < segment.length) ch = segment[++i]!;
    const lo = ch.charCodeAt(0);
    if (segment[i + 1] === "-" && i + 2 < segment.length && segment[i + 2] !== "]") {
      let hiCh = segment[i + 2]!;
      i += 2;
      if (hiCh === "\\" && i + 1 < segment.length) hiCh = segment[++i]!;
      ranges.push([lo, hiCh.charCodeAt(0)]);
    } else {
      ranges.push([lo, lo]);
    }
    first = false;
    i++;
  }
  return null;
}

function compileSegment(segment: string): Segment {
  if (segment === "**") return { kind: "globstar" };
  const tokens: SegmentToken[] = [];
  let stars = 0;
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if ("@!+*?".includes(ch) && segment[i + 1] === "(") {
      throw new GlobError(`extglobs like ${ch}(a|b) are not supported; use {a,b}`);
    }
    if (ch === "*") {
      // `**` inside a segment is a plain `*`.
      if (tokens.at(-1)?.kind !== "star") {
        tokens.push({ kind: "star" });
        stars++;
      }
    } else if (ch === "?") {
      tokens.push({ kind: "any" });
    } else if (ch === "[") {
      const set = parseSet(segment, i);
      if (set) {
        tokens.push(set.test);
        i = set.end;
      } else {
        tokens.push({ kind: "char", code: ch.charCodeAt(0) });
      }
    } else if (ch === "\\" && i + 1 < segment.length) {
      tokens.push({ kind: "char", code: segment.charCodeAt(++i) });
    } else {
      tokens.push({ kind: "char", code: ch.charCodeAt(0) });
    }
  }
  if (tokens.every((t) => t.kind === "char")) {
    return { kind: "literal", text: String.fromCharCode(...tokens.map((t) => (t as { code: number }).code)) };
  }
  return { kind: "wild", tokens, stars };
}

/** Compiles one pattern without braces; throws GlobError on what it cannot match. */
function compileExpanded(pattern: string, negated: boolean): CompiledGlob {
  const body = pattern.replace(/^(?:\.\/)+/, "");
  if (body.startsWith("/")) throw new GlobError("paths are relative to the repository root; drop the leading '/'");
  const parts = body.split("/");
  if (parts.some((p) => p === "")) throw new GlobError("it has an empty segment ('//' or a trailing '/'); for a folder write 'dir/**'");
  return { negated, segments: parts.map(compileSegment) };
}

/**
 * Compiles a pattern as written (braces, a leading `!`) into the globs it stands for; bounded
 * work for any input (length and expansions are limited here). Throws GlobError.
 */
export function compileGlob(pattern: string): CompiledGlob[] {
  if (pattern.length === 0) throw new GlobError("it is empty");
  if (pattern.length > GLOB_LIMITS.patternLength) {
    throw new GlobError(`it is ${pattern.length} characters long (at most ${GLOB_LIMITS.patternLength})`);
  }
  const negated = pattern.startsWith("!") && pattern[1] !== "(";
  return expandBraces(negated ? pattern.slice(1) : pattern).map((p) => compileExpanded(p, negated));
}

/** Path segments never contain `/`, so `?` and sets need not exclude it. */
/**
 * The limits a config's globs must keep, beyond what compiling needs: matching is bounded
 * anyway, these keep it cheap. Returns the globs the pattern stands for; throws GlobError.
 */
export function compileGlobWithinLimits(pattern: string): CompiledGlob[] {
  const globs = compileGlob(pattern);
  for (const glob of globs) {
    const stars = Math.max(0, ...glob.segments.map((s) => (s.kind === "wild" ? s.stars : 0)));
    if (stars > GLOB_LIMITS.starsPerSegment) {
      throw new GlobError(`a segment has ${stars} '*' (at most ${GLOB_LIMITS.starsPerSegment} per segment)`);
    }
    const globstars = glob.segments.filter((s) => s.kind === "globstar").length;
    if (globstars > GLOB_LIMITS.globstarsPerPattern) {
      throw new GlobError(`it has ${globstars} '**' segments (at most ${GLOB_LIMITS.globstarsPerPattern})`);
    }
  }
  return globs;
}

function charMatches(test: CharTest, code: number): boolean {
  if (test.kind === "char") return test.code === code;
  if (test.kind === "any") return true;
  return test.ranges.some(([lo, hi]) => code >= lo && code <= hi) !== test.negated;
}

/**
 * Wildcard matching with two pointers: on a mismatch only the most recent star takes one more
 * unit, so the work is at most tokens × units (no exponential backtracking). Correct because
 * every other token consumes exactly one unit.
 */
function matchWildcards<T>(
  tokens: readonly T[],
  isStar: (t: T) => boolean,
  units: number,
  unitMatches: (t: T, u: number) => boolean,
): boolean {
  let p = 0;
  let u = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (u < units) {
    const token = tokens[p];
    if (token !== undefined && isStar(token)) {
      starAt = p++;
      resumeAt = u;
    } else if (token !== undefined && unitMatches(token, u)) {
      p++;
      u++;
    } else if (starAt >= 0) {
      p = starAt + 1;
      u = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p < tokens.length && isStar(tokens[p]!)) p++;
  return p === tokens.length;
}

const isStarToken = (t: SegmentToken) => t.kind === "star";

function segmentMatches(segment: Segment, text: string): boolean {
  if (segment.kind === "literal") return segment.text === text;
  if (segment.kind === "globstar") return true;
  return matchWildcards(segment.tokens, isStarToken, text.length, (t, i) => charMatches(t as CharTest, text.charCodeAt(i)));
}

const isGlobstar = (s: Segment) => s.kind === "globstar";

function globMatches(glob: CompiledGlob, segments: readonly string[]): boolean {
  return matchWildcards(glob.segments, isGlobstar, segments.length, (s, i) => segmentMatches(s, segments[i]!));
}

export type PathMatcher = (segments: readonly string[]) => boolean;

/**
 * A matcher for a list of patterns (a suite's `paths`): a path matches when it matches some
 * pattern and no `!` pattern; a list of only `!` patterns matches what none of them matches.
 * Takes `pathSegments(path)`. Throws GlobError for a pattern `compileGlob` rejects.
 */
export function compilePathMatcher(patterns: readonly string[]): PathMatcher {
  const globs = patterns.flatMap(compileGlob);
  const include = globs.filter((g) => !g.negated);
  const exclude = globs.filter((g) => g.negated);
  return (segments) =>
    (include.length === 0 || include.some((g) => globMatches(g, segments))) && !exclude.some((g) => globMatches(g, segments));
}
