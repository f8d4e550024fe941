import { DTYPE, REDUCE, type DtypeCode, type IndexReduceArgs, type KernelMode, type ReduceName } from "./native.js";
import { compare, dtypeName, fmt, fromNumbers, Rng, seedFor, TOLERANCE, toNumbers } from "./numeric.js";
import { wallClockSamples, type BuiltinSuiteEnv, type SuiteRecorder } from "./suite.js";

/**
 * index-reduce: Tensor.index_reduce_(0, index, source, reduce, include_self) on every reduce,
 * include_self and dtype, implementation vs the independent reference (PyTorch's CPU
 * algorithm). Indices repeat and some rows are never indexed (they must stay untouched).
 */

interface Case {
  rows: number;
  rowSize: number;
  nIndex: number;
  /** Put NaN into some source values (amax/amin must propagate them as PyTorch does). */
  nan?: boolean;
}

function makeArgs(dtype: DtypeCode, reduce: ReduceName, includeSelf: boolean, c: Case, rng: Rng): IndexReduceArgs {
  // prod: values near 1 so products stay finite; others: signed values
  const value = () => (reduce === "prod" ? rng.uniform(0.8, 1.25) * (rng.next() < 0.1 ? -1 : 1) : rng.uniform(-4, 4));
  const self = Array.from({ length: c.rows * c.rowSize }, value);
  const source = Array.from({ length: c.nIndex * c.rowSize }, value);
  if (c.nan) for (let i = 0; i < source.length; i += 7) source[i] = NaN;
  // indices into the first ~2/3 of rows, with repeats; the rest are never indexed
  const hi = Math.max(1, Math.ceil((c.rows * 2) / 3));
  const index = new BigInt64Array(c.nIndex);
  for (let i = 0; i < c.nIndex; i++) index[i] = BigInt(rng.int(0, hi));
  return {
    dtype,
    self: fromNumbers(dtype, self),
    selfRows: c.rows,
    rowSize: c.rowSize,
    index,
    source: fromNumbers(dtype, source),
    reduce: REDUCE[reduce],
    includeSelf,
  };
}

const EXACT = true;

function run(ctx: BuiltinSuiteEnv, mode: KernelMode, args: IndexReduceArgs) {
  const got = { ...args, self: args.self.slice() };
  const want = { ...args, self: args.self.slice() };
  ctx.lib.indexReduce(mode, got);
  ctx.lib.indexReduce("ref", want);
  const g = toNumbers(args.dtype, got.self);
  const w = toNumbers(args.dtype, want.self);
  const cmp = compare(g, w);
  // The ABI fixes the arithmetic (float32 accumulation in source-row order within groups of
  // SK_INDEX_REDUCE_GROUP rows, groups combined in order, one rounding to the dtype), so
  // implementation and reference must agree exactly: tolerance 0.
  // (An H100 run measured maxError 0 for every dtype; a 1-ulp bf16 rounding bug gives ~0.006.)
  const tolerance = EXACT ? 0 : TOLERANCE[dtypeName(args.dtype)];
  const where =
    cmp.worst >= 0
      ? `worst at [${Math.floor(cmp.worst / args.rowSize)}, ${cmp.worst % args.rowSize}]: got ${fmt(g[cmp.worst]!)}, want ${fmt(w[cmp.worst]!)}`
      : undefined;
  return {
    maxError: cmp.maxError,
    tolerance,
    ...(cmp.nanMismatch ? { failure: `${cmp.nanMismatch} NaN mismatches` } : {}),
    ...(where && cmp.maxError > tolerance ? { message: where } : {}),
  };
}

export function indexReduceSuite(ctx: BuiltinSuiteEnv, rec: SuiteRecorder): void {
  const mode: KernelMode = ctx.execution === "cuda" ? "cuda" : "host";
  const cases: Case[] = ctx.quick
    ? [
        { rows: 1, rowSize: 16, nIndex: 5 },
        { rows: 257, rowSize: 33, nIndex: 600 },
        // Hot rows: hundreds of source rows per target, so the grouped combine order is exercised.
        { rows: 3, rowSize: 33, nIndex: 1500 },
      ]
    : [
        { rows: 1, rowSize: 1, nIndex: 1 },
        { rows: 1, rowSize: 128, nIndex: 37 },
        { rows: 257, rowSize: 33, nIndex: 1000 },
        { rows: 4096, rowSize: 64, nIndex: 20_000 },
        { rows: 8, rowSize: 128, nIndex: 4096 },
      ];
  for (const reduce of Object.keys(REDUCE) as ReduceName[]) {
    for (const includeSelf of [true, false]) {
      for (const dtype of [DTYPE.f32, DTYPE.f16, DTYPE.bf16] as DtypeCode[]) {
        for (const c of cases) {
          const name = `index_reduce/${reduce}/include_self=${includeSelf}/${dtypeName(dtype)}/rows=${c.rows}/row_size=${c.rowSize}/n_index=${c.nIndex}`;
          rec.test(name, () => run(ctx, mode, makeArgs(dtype, reduce, includeSelf, c, new Rng(seedFor(ctx.seed, name)))));
        }
      }
    }
  }
  for (const reduce of ["amax", "amin"] as ReduceName[]) {
    const c = { rows: 65, rowSize: 17, nIndex: 200, nan: true };
    const name = `index_reduce/${reduce}/nan_propagation/f32/rows=${c.rows}`;
    rec.test(name, () => run(ctx, mode, makeArgs(DTYPE.f32, reduce, true, c, new Rng(seedFor(ctx.seed, name)))));
  }
  rec.test("index_reduce/empty_index/f32", () =>
    run(ctx, mode, makeArgs(DTYPE.f32, "mean", false, { rows: 4, rowSize: 8, nIndex: 0 }, new Rng(1))),
  );
  // Index range is a precondition on the GPU (checking it would cost a sync); the host
  // execution validates it. Never send a bad index to the device: the write would be wild.
  rec.test("index_reduce/host_rejects_out_of_range_index", () => {
    if (mode === "cuda") return { skip: "precondition on the device path (checked only by the host execution)" };
    const args = makeArgs(DTYPE.f32, "mean", true, { rows: 4, rowSize: 8, nIndex: 3 }, new Rng(2));
    args.index[1] = 4n;
    try {
      ctx.lib.indexReduce(mode, args);
    } catch (err) {
      return { message: (err as Error).message };
    }
    return { failure: "index 4 into 4 rows was accepted (expected SK_ERR_INVALID)" };
  });

  const rng = new Rng(seedFor(ctx.seed, "bench"));
  if (ctx.execution === "cuda") {
    const shapes = ctx.quick ? [{ rows: 1024, rowSize: 128, nIndex: 8192 }] : [{ rows: 16384, rowSize: 256, nIndex: 131072 }];
    for (const c of shapes) {
      for (const [reduce, dtype] of [
        ["mean", DTYPE.bf16],
        ["amax", DTYPE.f32],
      ] as [ReduceName, DtypeCode][]) {
        const args = makeArgs(dtype, reduce, true, c, rng);
        rec.benchmark(`index_reduce/${reduce}/${dtypeName(dtype)}/rows=${c.rows}/row_size=${c.rowSize}/n_index=${c.nIndex}`, () => ({
          unit: "us",
          samples: Array.from(ctx.lib.timeIndexReduce(args, ctx.timing)),
          work: { bytes: (c.nIndex + c.rows) * c.rowSize * (dtype === DTYPE.f32 ? 4 : 2) + c.nIndex * 8 },
        }));
      }
    }
  } else {
    const c = ctx.quick ? { rows: 257, rowSize: 33, nIndex: 600 } : { rows: 4096, rowSize: 64, nIndex: 20_000 };
    const args = makeArgs(DTYPE.bf16, "mean", true, c, rng);
    const reps = ctx.quick ? 3 : 10;
    rec.benchmark(`index_reduce/mean/bf16/rows=${c.rows}/row_size=${c.rowSize}/n_index=${c.nIndex} [cpu-host]`, () => ({
      unit: "us",
      samples: wallClockSamples(() => ctx.lib.indexReduce("host", { ...args, self: args.self.slice() }), 1, reps),
      reference: {
        name: "sk_index_reduce_ref",
        samples: wallClockSamples(() => ctx.lib.indexReduce("ref", { ...args, self: args.self.slice() }), 1, reps),
      },
    }));
  }
}
