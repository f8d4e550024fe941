import { DTYPE, type AttentionArgs, type DtypeCode } from "./native.js";
import { compare, dtypeName, fmt, poison, Rng, seedFor, toNumbers } from "./numeric.js";
import type { BuiltinSuiteEnv, SuiteRecorder } from "./suite.js";

/**
 * varlen-attention: the forward (inference) kernel on variable-length batches: plain, causal,
 * GQA, seqused_k, paged KV (page table), sliding window, split-KV, the "returns a new output"
 * variant, with log-sum-exp; fp16 and bf16; head_dim 64/128/256; paged decode over more pages
 * than the kernel's page window holds (one split, and the automatic split), and long d256 causal
 * prefill. CUDA kernel vs the CPU reference. The kernels ABI has no host execution of the attention implementation, so on a
 * host without a GPU the kernel comparisons are skipped (saying so) and the suite checks the
 * entry point's parameter validation (implementation code, run on the host) and the reference
 * against an oracle written here.
 */

export const ATTN_TOLERANCE = { f16: 4e-3, bf16: 2.4e-2 } as const;
const LSE_TOLERANCE = 2e-3;

export interface AttnCase {
  label: string;
  dtype: DtypeCode;
  headDim: number;
  numHeads: number;
  numHeadsKv: number;
  seqlensQ: number[];
  seqlensK: number[];
  causal?: boolean;
  windowLeft?: number;
  windowRight?: number;
  /** Keys beyond seqused_k exist in the buffer (filled with NaN: they must never be read). */
  seqused?: boolean;
  pageSize?: number;
  numSplits?: number;
  alloc?: boolean;
}

/** Random fp16/bf16 bit patterns with magnitudes in [1/8, 1), random sign (fast for big buffers). */
export function randomHalf(dtype: DtypeCode, n: number, rng: Rng): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.u32();
    if (dtype === DTYPE.bf16) out[i] = (r & 0x8000) | ((124 + (r % 3)) << 7) | ((r >>> 8) & 0x7f);
    else out[i] = (r & 0x8000) | ((12 + (r % 3)) << 10) | ((r >>> 8) & 0x3ff);
  }
  return out;
}

const HALF_NAN = 0xffff;

/** Builds the kernel arguments of a case (host buffers); out/lse are poisoned. */
export function buildAttention(c: AttnCase, rng: Rng): AttentionArgs {
  const batch = c.seqlensQ.length;
  const H = c.numHeads;
  const Hk = c.numHeadsKv;
  const D = c.headDim;
  const cuQ = new Int32Array(batch + 1);
  c.seqlensQ.forEach((l, b) => (cuQ[b + 1] = cuQ[b]! + l));
  const totalQ = cuQ[batch]!;
  const args: AttentionArgs = {
    dtype: c.dtype,
    batch,
    numHeads: H,
    numHeadsKv: Hk,
    headDim: D,
    totalQ,
    maxSeqlenQ: Math.max(0, ...c.seqlensQ),
    maxSeqlenK: Math.max(0, ...c.seqlensK),
    causal: c.causal ?? false,
    windowLeft: c.windowLeft ?? -1,
    windowRight: c.windowRight ?? -1,
    numSplits: c.numSplits ?? 0,
    alloc: c.alloc ?? false,
    q: randomHalf(c.dtype, totalQ * H * D, rng),
    cuSeqlensQ: cuQ,
    out: new Uint16Array(totalQ * H * D),
    lse: new Float32Array(H * totalQ),
  };
  if (c.pageSize) {
    const P = c.pageSize;
    const pagesPer = c.seqlensK.map((l) => Math.max(1, Math.ceil(l / P)));
    const maxPages = Math.max(1, ...pagesPer);
    const numPages = pagesPer.reduce((a, b) => a + b, 0) + 2; // spare pages never referenced
    // pages handed out in a shuffled order, so page order != key order
    const order = Array.from({ length: numPages }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const table = new Int32Array(batch * maxPages).fill(-1);
    let next = 0;
    c.seqlensK.forEach((_, b) => {
      for (let p = 0; p < pagesPer[b]!; p++) table[b * maxPages + p] = order[next++]!;
    });
    const kCache = randomHalf(c.dtype, numPages * P * Hk * D, rng);
    const vCache = randomHalf(c.dtype, numPages * P * Hk * D, rng);
    // slots past each sequence's length hold NaN: reading them would poison the output
    c.seqlensK.forEach((l, b) => {
      for (let j = l; j < pagesPer[b]! * P; j++) {
        const page = table[b * maxPages + Math.floor(j / P)]!;
        const off = (page * P + (j % P)) * Hk * D;
        kCache.fill(HALF_NAN, off, off + Hk * D);
        vCache.fill(HALF_NAN, off, off + Hk * D);
      }
    });
    // the spare pages hold only NaN; page-table entries past a sequence's pages point at one
    const spare = order[numPages - 1]!;
    for (const page of order.slice(next)) {
      kCache.fill(HALF_NAN, page * P * Hk * D, (page + 1) * P * Hk * D);
      vCache.fill(HALF_NAN, page * P * Hk * D, (page + 1) * P * Hk * D);
    }
    for (let i = 0; i < table.length; i++) if (table[i]! < 0) table[i] = spare;
    Object.assign(args, {
      kCache,
      vCache,
      pageTable: table,
      numPages,
      pageSize: P,
      maxPagesPerSeq: maxPages,
      sequsedK: Int32Array.from(c.seqlensK),
    });
  } else {
    const cap = c.seqlensK.map((l) => (c.seqused ? l + 5 : l));
    const cuK = new Int32Array(batch + 1);
    cap.forEach((l, b) => (cuK[b + 1] = cuK[b]! + l));
    const totalK = cuK[batch]!;
    const k = randomHalf(c.dtype, totalK * Hk * D, rng);
    const v = randomHalf(c.dtype, totalK * Hk * D, rng);
    if (c.seqused) {
      c.seqlensK.forEach((l, b) => {
        const from = (cuK[b]! + l) * Hk * D;
        const to = cuK[b + 1]! * Hk * D;
        k.fill(HALF_NAN, from, to);
        v.fill(HALF_NAN, from, to);
      });
      args.sequsedK = Int32Array.from(c.seqlensK);
    }
    Object.assign(args, { k, v, cuSeqlensK: cuK, totalK });
  }
  return args;
}

function fresh(args: AttentionArgs): AttentionArgs {
  const out = new Uint16Array(args.out!.length);
  const lse = new Float32Array(args.lse!.length);
  poison(out);
  poison(lse);
  return { ...args, out, lse };
}

/** Straightforward attention in float64 (independent of both the kernel and the C reference). */
export function oracleAttention(a: AttentionArgs): { out: Float64Array; lse: Float64Array } {
  const { numHeads: H, numHeadsKv: Hk, headDim: D, batch } = a;
  const dec = (buf: Uint16Array) => toNumbers(a.dtype, buf);
  const q = dec(a.q!);
  const paged = !!a.pageTable;
  const k = dec(paged ? a.kCache! : a.k!);
  const v = dec(paged ? a.vCache! : a.v!);
  const out = new Float64Array(a.totalQ * H * D);
  const lse = new Float64Array(H * a.totalQ);
  const scale = a.softmaxScale && a.softmaxScale > 0 ? a.softmaxScale : 1 / Math.sqrt(D);
  const keyRow = (b: number, j: number): number => {
    if (!paged) return a.cuSeqlensK![b]! + j;
    const page = a.pageTable![b * a.maxPagesPerSeq! + Math.floor(j / a.pageSize!)]!;
    return page * a.pageSize! + (j % a.pageSize!);
  };
  for (let b = 0; b < batch; b++) {
    const q0 = a.cuSeqlensQ![b]!;
    const Lq = a.cuSeqlensQ![b + 1]! - q0;
    const Lk = a.sequsedK ? a.sequsedK[b]! : a.cuSeqlensK![b + 1]! - a.cuSeqlensK![b]!;
    const offset = Lk - Lq;
    for (let h = 0; h < H; h++) {
      const hk = Math.floor(h / (H / Hk));
      for (let i = 0; i < Lq; i++) {
        const lo = a.windowLeft !== undefined && a.windowLeft >= 0 ? Math.max(0, i + offset - a.windowLeft) : 0;
        let hi = Lk - 1;
        if (a.causal) hi = Math.min(hi, i + offset);
        if (a.windowRight !== undefined && a.windowRight >= 0) hi = Math.min(hi, i + offset + a.windowRight);
        const qi = ((q0 + i) * H + h) * D;
        const oi = ((q0 + i) * H + h) * D;
        if (hi < lo) {
          lse[h * a.totalQ + q0 + i] = Infinity;
          continue;
        }
        const s: number[] = [];
        for (let j = lo; j <= hi; j++) {
          const kr = (keyRow(b, j) * Hk + hk) * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qi + d]! * k[kr + d]!;
          s.push(dot * scale);
        }
        const m = Math.max(...s);
        let sum = 0;
        for (const x of s) sum += Math.exp(x - m);
        for (let j = lo; j <= hi; j++) {
          const p = Math.exp(s[j - lo]! - m) / sum;
          const vr = (keyRow(b, j) * Hk + hk) * D;
          for (let d = 0; d < D; d++) out[oi + d]! += p * v[vr + d]!;
        }
        lse[h * a.totalQ + q0 + i] = m + Math.log(sum);
      }
    }
  }
  return { out, lse };
}

function compareAttention(c: AttnCase, got: AttentionArgs, want: { out: ArrayLike<number>; lse: ArrayLike<number> }) {
  const g = toNumbers(c.dtype, got.out!);
  const cmp = compare(g, want.out);
  const lseCmp = compare(Array.from(got.lse!), want.lse);
  const tolerance = ATTN_TOLERANCE[dtypeName(c.dtype) as "f16" | "bf16"];
  const problems: string[] = [];
  if (cmp.nanMismatch) problems.push(`${cmp.nanMismatch} output elements NaN (unwritten, or a masked key was read)`);
  if (lseCmp.maxError > LSE_TOLERANCE) problems.push(`lse max error ${fmt(lseCmp.maxError)} > ${LSE_TOLERANCE}`);
  const worst =
    cmp.worst >= 0 && cmp.maxError > tolerance
      ? `worst out[${cmp.worst}]: got ${fmt(g[cmp.worst]!)}, want ${fmt(want.out[cmp.worst]!)}`
      : undefined;
  return {
    maxError: cmp.maxError,
    tolerance,
    ...(problems.length ? { failure: problems.join("; ") } : {}),
    ...(worst ? { message: worst } : {}),
  };
}

export function attentionCases(quick: boolean): AttnCase[] {
  const cases: AttnCase[] = [];
  const dims = quick ? [64] : [64, 128, 256];
  for (const dtype of [DTYPE.f16, DTYPE.bf16] as DtypeCode[]) {
    for (const headDim of dims) {
      const base = { dtype, headDim, numHeads: 4, numHeadsKv: 4, seqlensQ: [1, 37, 80], seqlensK: [1, 37, 80] };
      const variants: AttnCase[] = [
        { ...base, label: "basic" },
        { ...base, label: "causal", causal: true, seqlensQ: [5, 37, 64], seqlensK: [9, 37, 100] },
        { ...base, label: "gqa", numHeads: 8, numHeadsKv: 2, seqlensQ: [3, 40, 17], seqlensK: [70, 40, 33] },
        { ...base, label: "seqused_k", seqused: true, seqlensQ: [4, 20, 33], seqlensK: [10, 20, 97] },
        { ...base, label: "paged", pageSize: 16, seqlensQ: [1, 1, 1], seqlensK: [33, 100, 16] },
        {
          ...base,
          label: "paged/causal/gqa",
          pageSize: 32,
          causal: true,
          numHeads: 8,
          numHeadsKv: 2,
          seqlensQ: [7, 30, 2],
          seqlensK: [70, 30, 65],
        },
        { ...base, label: "local_window", causal: true, windowLeft: 16, windowRight: 0, seqlensQ: [50, 64], seqlensK: [50, 90] },
        { ...base, label: "split_kv", numSplits: 3, seqlensQ: [1, 2, 16], seqlensK: [150, 200, 60] },
        { ...base, label: "out_variant", alloc: true },
        { ...base, label: "empty_sequences", causal: true, seqlensQ: [0, 6, 3], seqlensK: [0, 0, 3] },
      ];
      cases.push(...(quick ? variants.filter((v) => ["basic", "paged/causal/gqa", "seqused_k"].includes(v.label)) : variants));
    }
  }
  if (!quick) {
    for (const dtype of [DTYPE.f16, DTYPE.bf16] as DtypeCode[]) {
      const decode = { dtype, headDim: 128, numHeads: 8, numHeadsKv: 2, pageSize: 16, seqlensQ: [1, 1], seqlensK: [4200, 300] };
      cases.push(
        // One split over more pages (263) than the kernel's shared-memory page window holds: it is refilled mid-sequence.
        { ...decode, label: "paged/decode/one_split", numSplits: 1 },
        // The automatic split-KV over the same pages: chunks that start inside a page window.
        { ...decode, label: "paged/decode/auto_split" },
        // Long causal prefill at head_dim 256, over many key tiles of the d256 kernels.
        { dtype, headDim: 256, numHeads: 2, numHeadsKv: 2, causal: true, seqlensQ: [520, 70], seqlensK: [520, 90], label: "causal/long" },
      );
    }
  }
  return cases;
}

export function caseName(c: AttnCase): string {
  return `varlen_attention/${c.label}/${dtypeName(c.dtype)}/d=${c.headDim}/h=${c.numHeads}:${c.numHeadsKv}/q=${c.seqlensQ.join(",")}/k=${c.seqlensK.join(",")}`;
}

const PARAM_CHECKS: { name: string; mutate: (a: AttentionArgs) => void; expect: string }[] = [
  { name: "valid", mutate: () => {}, expect: "SK_OK" },
  { name: "head_dim=96", mutate: (a) => (a.headDim = 96), expect: "SK_ERR_UNSUPPORTED" },
  { name: "f32", mutate: (a) => (a.dtype = DTYPE.f32), expect: "SK_ERR_UNSUPPORTED" },
  { name: "heads_not_multiple_of_kv_heads", mutate: (a) => ((a.numHeads = 6), (a.numHeadsKv = 4)), expect: "SK_ERR_INVALID" },
  { name: "page_size=8", mutate: (a) => (a.pageSize = 8), expect: "SK_ERR_UNSUPPORTED" },
  { name: "paged_and_kv_both", mutate: (a) => (a.k = a.kCache ?? new Uint16Array(1)), expect: "SK_ERR_UNSUPPORTED" },
  { name: "num_splits=129", mutate: (a) => (a.numSplits = 129), expect: "SK_ERR_INVALID" },
];

export function varlenAttentionSuite(ctx: BuiltinSuiteEnv, rec: SuiteRecorder): void {
  const cases = attentionCases(ctx.quick);
  // Parameter validation: the GPU entry point's checks, executed on the host (both runners).
  for (const check of PARAM_CHECKS) {
    const name = `varlen_attention/params/${check.name}`;
    rec.test(name, () => {
      const a = buildAttention(
        { label: "p", dtype: DTYPE.f16, headDim: 64, numHeads: 4, numHeadsKv: 2, seqlensQ: [2, 3], seqlensK: [40, 20], pageSize: 16 },
        new Rng(3),
      );
      check.mutate(a);
      const r = ctx.lib.checkAttentionParams(a);
      return r.code === check.expect ? {} : { failure: `expected ${check.expect}, got ${r.code}${r.message ? ` (${r.message})` : ""}` };
    });
  }
  // The C reference against the float64 oracle: guards the yardstick itself.
  for (const c of cases.filter((x) => x.headDim === 64)) {
    const name = `varlen_attention/reference_vs_oracle/${caseName(c).slice("varlen_attention/".length)}`;
    rec.test(name, () => {
      const args = buildAttention(c, new Rng(seedFor(ctx.seed, caseName(c))));
      const ref = fresh(args);
      ctx.lib.varlenAttention("ref", ref);
      return compareAttention(c, ref, oracleAttention(args));
    });
  }
  for (const c of cases) {
    const name = caseName(c);
    rec.test(name, () => {
      if (ctx.execution !== "cuda") return { skip: `${ctx.lib.status().message}; the kernels ABI has no host execution of attention` };
      const args = buildAttention(c, new Rng(seedFor(ctx.seed, name)));
      const got = fresh(args);
      const want = fresh(args);
      ctx.lib.varlenAttention("cuda", got);
      ctx.lib.varlenAttention("ref", want);
      return compareAttention(c, got, { out: toNumbers(c.dtype, want.out!), lse: Array.from(want.lse!) });
    });
  }

  if (ctx.execution === "cuda") {
    const rng = new Rng(seedFor(ctx.seed, "bench"));
    const benches: AttnCase[] = ctx.quick
      ? [
          {
            label: "prefill/causal/gqa",
            dtype: DTYPE.bf16,
            headDim: 128,
            numHeads: 8,
            numHeadsKv: 2,
            seqlensQ: [256, 256],
            seqlensK: [256, 256],
            causal: true,
          },
        ]
      : [
          {
            label: "prefill/causal/gqa",
            dtype: DTYPE.bf16,
            headDim: 128,
            numHeads: 16,
            numHeadsKv: 4,
            seqlensQ: [2048, 2048, 2048, 2048],
            seqlensK: [2048, 2048, 2048, 2048],
            causal: true,
          },
          {
            label: "prefill/causal",
            dtype: DTYPE.f16,
            headDim: 64,
            numHeads: 16,
            numHeadsKv: 16,
            seqlensQ: [1024, 3072],
            seqlensK: [1024, 3072],
            causal: true,
          },
          {
            label: "decode/paged/gqa",
            dtype: DTYPE.bf16,
            headDim: 128,
            numHeads: 32,
            numHeadsKv: 8,
            seqlensQ: Array(16).fill(1),
            seqlensK: Array(16).fill(2048),
            pageSize: 64,
          },
        ];
    for (const c of benches) {
      const name = `varlen_attention/${c.label}/${dtypeName(c.dtype)}/d=${c.headDim}/h=${c.numHeads}:${c.numHeadsKv}/batch=${c.seqlensQ.length}/q=${c.seqlensQ[0]}/k=${c.seqlensK[0]}`;
      rec.benchmark(name, () => {
        const args = buildAttention(c, rng);
        let flops = 0;
        c.seqlensQ.forEach((lq, b) => {
          const lk = c.seqlensK[b]!;
          const pairs = c.causal ? lq * lk - (lq * (lq - 1)) / 2 : lq * lk;
          flops += 4 * pairs * c.numHeads * c.headDim;
        });
        return {
          unit: "us",
          samples: Array.from(ctx.lib.timeVarlenAttention(args, ctx.timing)),
          work: { flops },
        };
      });
    }
  }
}
