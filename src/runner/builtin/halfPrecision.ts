import { DTYPE, type DtypeCode, type KernelMode } from "./native.js";
import { bitsF32, dtypeName, f32Bits, hex, Rng, seedFor, ulpDistance16, ulpDistance32 } from "./numeric.js";
import { wallClockSamples, type BuiltinSuiteEnv, type SuiteRecorder } from "./suite.js";

/**
 * half-precision: fp32 -> fp16/bf16 (round to nearest even, IEEE specials) and back, the
 * implementation (CUDA kernel, or its host execution) against the independent reference,
 * bit for bit. maxError is in ulps of the output format; the tolerance is 0.
 */

function specialsF32(): number[] {
  const vals = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    1,
    -1,
    65504,
    -65504,
    65519.99,
    65520,
    -65520,
    65536,
    2 ** -14,
    2 ** -24,
    2 ** -25,
    2 ** -25 * 1.0001,
    2 ** -26,
    5.96e-8,
    6.1e-5,
    3.3895313892515355e38,
    1e-40,
    -1e-45,
    1.00390625,
    1.01171875,
    0.1,
    1 / 3,
    3.14159265,
    1e10,
    1e-10,
  ];
  const bits = vals.map(f32Bits);
  // NaN payloads and signs; bf16 max and the values that round to Inf
  bits.push(
    0x7fc00000,
    0xffc00000,
    0x7f800001,
    0xff800001,
    0x7fbfffff,
    0x7f7f0000,
    0x7f7f7fff,
    0x7f7f8000,
    0x7f7fffff,
    0x00000001,
    0x80000001,
    0x007fffff,
  );
  return bits;
}

function inputsFor(kind: string, dst: DtypeCode, n: number, rng: Rng): Uint32Array {
  const out = new Uint32Array(kind === "specials" ? specialsF32().length : n);
  if (kind === "specials") out.set(specialsF32());
  else if (kind === "random_bits") for (let i = 0; i < n; i++) out[i] = rng.u32();
  else if (kind === "normal_values") {
    for (let i = 0; i < n; i++) out[i] = f32Bits(rng.normal() * 10 ** rng.int(-6, 6));
  } else if (kind === "ties") {
    for (let i = 0; i < n; i++) {
      if (dst === DTYPE.bf16) out[i] = ((rng.u32() & 0xffff0000) | 0x8000) >>> 0;
      else {
        // f32 values in fp16's normal range whose 13 dropped mantissa bits are exactly half
        const exp = rng.int(113, 143);
        out[i] = ((rng.u32() & 0x80000000) | (exp << 23) | (rng.u32() & 0x007fe000) | 0x1000) >>> 0;
      }
    }
  }
  return out;
}

function checkToHalf(ctx: BuiltinSuiteEnv, mode: KernelMode, dst: DtypeCode, src: Uint32Array) {
  const f = new Float32Array(src.buffer.slice(0));
  const got = new Uint16Array(src.length).fill(0xdead);
  const want = new Uint16Array(src.length).fill(0xbeef);
  ctx.lib.convert(mode, DTYPE.f32, f, dst, got);
  ctx.lib.convert("ref", DTYPE.f32, f, dst, want);
  let maxUlp = 0;
  let mismatches = 0;
  let first = "";
  for (let i = 0; i < src.length; i++) {
    if (got[i] !== want[i]) {
      mismatches++;
      maxUlp = Math.max(maxUlp, ulpDistance16(got[i]!, want[i]!));
      if (!first) first = `input ${hex(src[i]!, 8)} (${bitsF32(src[i]!)}) -> got ${hex(got[i]!, 4)}, want ${hex(want[i]!, 4)}`;
    }
  }
  return {
    maxError: maxUlp,
    tolerance: 0,
    ...(mismatches ? { failure: `${mismatches}/${src.length} outputs differ from the reference; first: ${first}` } : {}),
  };
}

function checkToF32(ctx: BuiltinSuiteEnv, mode: KernelMode, srcDtype: DtypeCode) {
  const src = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) src[i] = i;
  const got = new Float32Array(65536);
  const want = new Float32Array(65536);
  new Uint32Array(got.buffer).fill(0xdeadbeef);
  new Uint32Array(want.buffer).fill(0xbeefdead);
  ctx.lib.convert(mode, srcDtype, src, DTYPE.f32, got);
  ctx.lib.convert("ref", srcDtype, src, DTYPE.f32, want);
  const g = new Uint32Array(got.buffer);
  const w = new Uint32Array(want.buffer);
  let maxUlp = 0;
  let mismatches = 0;
  let first = "";
  for (let i = 0; i < 65536; i++) {
    if (g[i] !== w[i]) {
      mismatches++;
      maxUlp = Math.max(maxUlp, ulpDistance32(g[i]!, w[i]!));
      if (!first) first = `input ${hex(i, 4)} -> got ${hex(g[i]!, 8)}, want ${hex(w[i]!, 8)}`;
    }
  }
  return {
    maxError: maxUlp,
    tolerance: 0,
    ...(mismatches ? { failure: `${mismatches}/65536 outputs differ from the reference; first: ${first}` } : {}),
  };
}

export function halfPrecisionSuite(ctx: BuiltinSuiteEnv, rec: SuiteRecorder): void {
  const mode: KernelMode = ctx.execution === "cuda" ? "cuda" : "host";
  const n = ctx.quick ? 1 << 14 : 1 << 20;
  for (const dst of [DTYPE.f16, DTYPE.bf16] as DtypeCode[]) {
    for (const kind of ["specials", "ties", "normal_values", "random_bits"]) {
      const size = kind === "specials" ? specialsF32().length : n;
      const name = `half_precision/f32->${dtypeName(dst)}/${kind}/n=${size}`;
      rec.test(name, () => checkToHalf(ctx, mode, dst, inputsFor(kind, dst, n, new Rng(seedFor(ctx.seed, name)))));
    }
  }
  for (const src of [DTYPE.f16, DTYPE.bf16] as DtypeCode[]) {
    rec.test(`half_precision/${dtypeName(src)}->f32/exhaustive/n=65536`, () => checkToF32(ctx, mode, src));
  }

  // Benchmarks: raw samples. CUDA: CUDA events around each launch. cpu-host: wall clock, with
  // the reference timed in the same run.
  const rng = new Rng(seedFor(ctx.seed, "bench"));
  if (ctx.execution === "cuda") {
    const count = ctx.quick ? 1 << 20 : 1 << 24;
    const src = new Float32Array(count);
    for (let i = 0; i < count; i++) src[i] = rng.normal();
    for (const dst of [DTYPE.bf16, DTYPE.f16] as DtypeCode[]) {
      rec.benchmark(`half_precision/f32->${dtypeName(dst)}/n=${count}`, () => ({
        unit: "us",
        samples: Array.from(ctx.lib.timeConvert(DTYPE.f32, src, dst, { ...ctx.timing, flushBytes: 64 << 20 })),
        work: { bytes: count * 6 },
      }));
    }
    const half = new Uint16Array(count);
    ctx.lib.convert("cuda", DTYPE.f32, src, DTYPE.bf16, half);
    rec.benchmark(`half_precision/bf16->f32/n=${count}`, () => ({
      unit: "us",
      samples: Array.from(ctx.lib.timeConvert(DTYPE.bf16, half, DTYPE.f32, { ...ctx.timing, flushBytes: 64 << 20 })),
      work: { bytes: count * 6 },
    }));
  } else {
    const count = ctx.quick ? 1 << 14 : 1 << 20;
    const src = new Float32Array(count);
    for (let i = 0; i < count; i++) src[i] = rng.normal();
    const dst = new Uint16Array(count);
    const reps = ctx.quick ? 3 : 10;
    rec.benchmark(`half_precision/f32->bf16/n=${count} [cpu-host]`, () => ({
      unit: "us",
      samples: wallClockSamples(() => ctx.lib.convert("host", DTYPE.f32, src, DTYPE.bf16, dst), 1, reps),
      reference: {
        name: "sk_convert_ref",
        samples: wallClockSamples(() => ctx.lib.convert("ref", DTYPE.f32, src, DTYPE.bf16, dst), 1, reps),
      },
      work: { bytes: count * 6 },
    }));
  }
}
