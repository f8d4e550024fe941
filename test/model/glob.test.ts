import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { compileGlob, compilePathMatcher, expandBraces, GlobError, GLOB_LIMITS, pathSegments } from "../../src/model/glob.js";
import { ConfigError, parseConfig } from "../../src/model/configFile.js";

const matches = (patterns: string | string[], path: string) =>
  compilePathMatcher(Array.isArray(patterns) ? patterns : [patterns])(pathSegments(path));

/** Median over a few rounds of `rounds` calls, in ms: robust to a GC pause in one round. */
function timeOf(fn: () => void, rounds = 200): number {
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[3]!;
}

describe("glob matching", () => {
  // picomatch with { dot: true } was the matcher before; these are the cases configs use.
  it.each([
    ["kernels/**", "kernels/attention/fwd.cu"],
    ["kernels/**", "kernels"],
    ["kernels/**", "kernelsx/a"],
    ["kernels/common/*.cuh", "kernels/common/tile.cuh"],
    ["kernels/common/*.cuh", "kernels/common/deep/tile.cuh"],
    ["kernels/src/attn*", "kernels/src/attn_fwd.cu"],
    ["kernels/src/attn*", "kernels/src/attn/x.cu"],
    ["**/*.cu", "a.cu"],
    ["**/*.cu", "x/y/a.cu"],
    ["**/*.cu", "x/y/a.cuh"],
    [".github/**", ".github/sheriff.yml"],
    ["**", ".github/workflows/x.yml"],
    ["*", ".env"],
    ["a/**/b", "a/b"],
    ["a/**/b", "a/x/y/b"],
    ["a/**/b/**/c", "a/b/x/b/c"],
    ["a**b", "axxb"],
    ["a**b", "ax/b"],
    ["a?c", "abc"],
    ["a?c", "a/c"],
    ["*.md", "docs/x.md"],
    ["{src,lib}/*.ts", "lib/a.ts"],
    ["{src,lib}/*.ts", "test/a.ts"],
    ["src/{a,b/{c,d}}.ts", "src/b/d.ts"],
    ["{a}/x", "{a}/x"],
    ["a/[b-d]", "a/c"],
    ["a/[b-d]", "a/e"],
    ["a/[^b]", "a/b"],
    ["a/[xyz]", "a/y"],
    ["a\\*", "a*"],
    ["a\\*", "ab"],
    ["./a", "a"],
    ["a[", "a["],
  ])("%s against %s as picomatch does", (pattern, path) => {
    expect(matches(pattern, path)).toBe(picomatch(pattern, { dot: true })(path));
  });

  it("excludes with ! patterns; a list of only ! patterns matches the rest", () => {
    expect(matches(["kernels/**", "!kernels/docs/**"], "kernels/a.cu")).toBe(true);
    expect(matches(["kernels/**", "!kernels/docs/**"], "kernels/docs/a.md")).toBe(false);
    expect(matches(["kernels/**", "!kernels/docs/**"], "README.md")).toBe(false);
    expect(matches(["!docs/**"], "src/a.ts")).toBe(true);
    expect(matches(["!docs/**"], "docs/a.md")).toBe(false);
  });

  it("expands braces with a bound, without building the whole product first", () => {
    expect(expandBraces("{a,b}/{c,d}")).toEqual(["a/c", "a/d", "b/c", "b/d"]);
    const bomb = "{a,b}".repeat(40);
    const start = performance.now();
    expect(() => expandBraces(bomb)).toThrowError(GlobError);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("matches exponential-for-backtracking patterns in time comparable to a plain pattern", () => {
    // `*a*a…ab` against many a's took picomatch 10 s on a 41-character path.
    const hostile = compilePathMatcher(["*a*a*a*a*a*a*a*a*a*a*a*ab"]);
    const deep = compilePathMatcher(["**/a*a*a*a*a/**/a*a*a*a*b/**/**/**/c"]);
    const plain = compilePathMatcher(["kernels/*.cu"]);
    const path = pathSegments("a".repeat(41));
    const deepPath = pathSegments(Array.from({ length: 30 }, () => "a".repeat(40)).join("/"));
    const plainPath = pathSegments(`kernels/${"a".repeat(30)}.cuh`);
    expect(hostile(path)).toBe(false);
    expect(deep(deepPath)).toBe(false);
    expect(plain(plainPath)).toBe(false);
    const plainMs = timeOf(() => plain(plainPath));
    const hostileMs = timeOf(() => hostile(path));
    // 200 calls per round: even the deep path stays far below one event-loop stall.
    const deepMs = timeOf(() => deep(deepPath), 20);
    expect(hostileMs).toBeLessThan(20 * Math.max(plainMs, 0.05));
    expect(deepMs).toBeLessThan(50);
  });

  it("matches a config's worth of plain globs against a large commit quickly", () => {
    const patterns = Array.from({ length: GLOB_LIMITS.patternsPerConfig }, (_, i) => `dir${i}/**/*.cu`);
    const files = Array.from({ length: 1000 }, (_, i) => pathSegments(`other${i}/src/file${i}.cu`));
    const one = compilePathMatcher(patterns.slice(0, 1));
    const all = compilePathMatcher(patterns);
    const oneMs = timeOf(() => files.some(one), 1);
    const allMs = timeOf(() => files.some(all), 1);
    // Linear in the number of globs (picomatch took 23 s for 20,000 globs × 1,000 files).
    expect(allMs).toBeLessThan(3 * patterns.length * Math.max(oneMs, 0.01));
  });

  it("rejects what it cannot match faithfully", () => {
    expect(() => compileGlob("@(a|b)")).toThrowError(/extglobs/);
    expect(() => compileGlob("a/{1..3}")).toThrowError(/brace ranges/);
    expect(() => compileGlob("[[:alpha:]]")).toThrowError(/POSIX/);
    expect(() => compileGlob("kernels/")).toThrowError(/empty segment/);
    expect(() => compileGlob("/kernels/**")).toThrowError(/relative/);
  });
});

describe("glob limits in the config", () => {
  const config = (paths: string[], suites = 1) =>
    `suites:\n${Array.from({ length: suites }, (_, i) => `  - { name: s${i}, kind: command, command: x, paths: ${JSON.stringify(paths)} }`).join("\n")}`;

  it.each([
    [["*a*a*a*a*a*a*a*a*a*a*a*ab"], /suites\.0\.paths\.0: suite "s0": glob "\*a\*a.*" is not allowed: a segment has 12 '\*' \(at most 5/],
    [["**/**/**/**/**/x"], /5 '\*\*' segments \(at most 4\)/],
    [[`kernels/${"x".repeat(300)}`], /is 308 characters long \(at most 256\)/],
    [["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"], /expand to more than 64 patterns/],
    [Array.from({ length: 201 }, (_, i) => `d${i}/**`), /suites\.0\.paths: a suite has at most 200 globs/],
    [
      Array.from(
        { length: 4 },
        (_, i) => `d${i}/{a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,0,1,2,3,4,5,6,7,8,9,A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P}`,
      ),
      /has 208 globs after \{…\} expansion \(at most 200\)/,
    ],
  ])("rejects %j with the suite, the glob and the limit", (paths, reason) => {
    expect(() => parseConfig(config(paths))).toThrowError(ConfigError);
    expect(() => parseConfig(config(paths))).toThrowError(reason);
  });

  it("limits the globs of the whole config", () => {
    const paths = Array.from({ length: 150 }, (_, i) => `d${i}/**`);
    expect(() => parseConfig(config(paths, 7))).toThrowError(/the suites have 1050 globs in all after \{…\} expansion \(at most 1000\)/);
    expect(parseConfig(config(paths, 6)).suites).toHaveLength(6);
  });

  it("clips a long pattern in the error", () => {
    const long = `${"*a".repeat(100)}`;
    try {
      parseConfig(config([long]));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(long);
      expect((err as Error).message).toContain("…");
    }
  });
});
