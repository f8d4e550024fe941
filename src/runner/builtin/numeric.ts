import type { DtypeCode, DtypeName } from "./native.js";

/** Seeded PRNG (mulberry32): the same seed gives the same inputs on every host. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hiExclusive: number): number {
    return lo + Math.floor(this.next() * (hiExclusive - lo));
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** Derives a per-test seed from the suite seed and the test name, so tests stay independent. */
export function seedFor(seed: number, name: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}
export function bitsF32(b: number): number {
  u32[0] = b >>> 0;
  return f32[0]!;
}

/** fp16 bits -> number (exact). Written here, independently of the kernels library. */
export function f16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** bf16 bits -> number (exact). */
export function bf16ToNumber(b: number): number {
  return bitsF32((b & 0xffff) << 16);
}

export function dtypeSize(dtype: DtypeCode): number {
  return dtype === 0 ? 4 : 2;
}

export function dtypeName(dtype: DtypeCode): DtypeName {
  return dtype === 0 ? "f32" : dtype === 1 ? "f16" : "bf16";
}

/** A buffer of `n` elements of `dtype` (Float32Array for f32, Uint16Array of bit patterns otherwise). */
export function alloc(dtype: DtypeCode, n: number): Float32Array | Uint16Array {
  return dtype === 0 ? new Float32Array(n) : new Uint16Array(n);
}

export function toNumbers(dtype: DtypeCode, data: Float32Array | Uint16Array): Float64Array {
  const out = new Float64Array(data.length);
  if (dtype === 0) for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  else if (dtype === 1) for (let i = 0; i < data.length; i++) out[i] = f16ToNumber(data[i]!);
  else for (let i = 0; i < data.length; i++) out[i] = bf16ToNumber(data[i]!);
  return out;
}

/** Round-to-nearest-even of a number to f16/bf16 bits, for building inputs (not what is tested). */
export function numberToHalfBits(dtype: DtypeCode, x: number): number {
  if (dtype === 2) {
    const b = f32Bits(x);
    if ((b & 0x7fffffff) > 0x7f800000) return 0x7fc0;
    return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  // f16 via exhaustive-free search: scale to the nearest representable value
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    const q = roundHalfEven(a / 2 ** -24);
    return sign | q;
  }
  const e = Math.floor(Math.log2(a));
  let exp = Math.min(Math.max(e, -14), 15);
  if (2 ** exp > a) exp--;
  let m = roundHalfEven((a / 2 ** exp - 1) * 1024);
  if (m === 1024) {
    m = 0;
    exp++;
  }
  if (exp > 15) return sign | 0x7c00;
  return sign | ((exp + 15) << 10) | m;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function fromNumbers(dtype: DtypeCode, values: ArrayLike<number>): Float32Array | Uint16Array {
  if (dtype === 0) return Float32Array.from(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToHalfBits(dtype, values[i]!);
  return out;
}

/** Poison value written into outputs before every run, so an output the kernel never wrote shows up. */
export function poison(buf: Float32Array | Uint16Array): void {
  if (buf instanceof Float32Array) buf.fill(NaN);
  else buf.fill(0xffff); // NaN in both fp16 and bf16
}

/** Per-dtype tolerance on a mixed error |a-b| / (1 + |b|). */
export const TOLERANCE: Record<DtypeName, number> = { f32: 1e-5, f16: 2e-3, bf16: 1.6e-2 };

export interface Comparison {
  maxError: number;
  /** Index of the worst element, -1 when all equal. */
  worst: number;
  nanMismatch: number;
}

/** Mixed abs/rel error of `got` against `want`; NaN must match NaN, ±Inf must match exactly. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>): Comparison {
  let maxError = 0;
  let worst = -1;
  let nanMismatch = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    let err: number;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      err = Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
      if (err) nanMismatch++;
    } else if (!Number.isFinite(b) || !Number.isFinite(a)) {
      err = a === b ? 0 : Infinity;
    } else {
      err = Math.abs(a - b) / (1 + Math.abs(b));
    }
    if (err > maxError || (worst < 0 && err > 0)) {
      maxError = err;
      worst = i;
    }
  }
  return { maxError, worst, nanMismatch };
}

/** Distance in units in the last place between two 16-bit patterns of the same format (sign-magnitude order). */
export function ulpDistance16(a: number, b: number): number {
  const ord = (x: number) => (x & 0x8000 ? -(x & 0x7fff) : x & 0x7fff);
  return Math.abs(ord(a) - ord(b));
}

export function ulpDistance32(a: number, b: number): number {
  const ord = (x: number) => (x & 0x80000000 ? -(x & 0x7fffffff) : x & 0x7fffffff);
  return Math.abs(ord(a >>> 0) - ord(b >>> 0));
}

export function hex(n: number, digits: number): string {
  return `0x${(n >>> 0).toString(16).padStart(digits, "0")}`;
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0 ? "0" : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? x.toPrecision(4) : x.toExponential(3);
}
