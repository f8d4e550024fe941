// Types of sheriff_native.node (see README.md); src/runner/builtin/native.ts re-exports them.
export type KernelMode = "cuda" | "host" | "ref";
export type DtypeCode = 0 | 1 | 2;
export interface TimingOptions {
  warmup?: number;
  reps?: number;
  /** >0: memset a buffer this big before every rep (L2 flush). */
  flushBytes?: number;
  /** >0: enqueue a spin kernel of this many µs before the reps, so launch overhead stays out. */
  holdUs?: number;
  /** Needs a non-default stream; the addon times on the default stream, so leave it off. */
  verifyStream?: boolean;
}
export interface IndexReduceArgs {
  dtype: DtypeCode;
  self: Float32Array | Uint16Array;
  selfRows: number;
  rowSize: number;
  index: BigInt64Array;
  source: Float32Array | Uint16Array;
  reduce: number;
  includeSelf: boolean;
}
export interface AttentionArgs {
  dtype: DtypeCode;
  batch: number;
  numHeads: number;
  numHeadsKv: number;
  headDim: number;
  totalQ: number;
  totalK?: number;
  maxSeqlenQ: number;
  maxSeqlenK: number;
  softmaxScale?: number;
  causal?: boolean;
  windowLeft?: number;
  windowRight?: number;
  q?: Uint16Array;
  k?: Uint16Array;
  v?: Uint16Array;
  cuSeqlensQ?: Int32Array;
  cuSeqlensK?: Int32Array;
  sequsedK?: Int32Array;
  kCache?: Uint16Array;
  vCache?: Uint16Array;
  pageTable?: Int32Array;
  numPages?: number;
  pageSize?: number;
  maxPagesPerSeq?: number;
  out?: Uint16Array;
  lse?: Float32Array;
  numSplits?: number;
  /** CUDA mode: use the "returns a new output" entry point (sk_varlen_attn_fwd_alloc). */
  alloc?: boolean;
}
export interface TimingStats {
  n: number;
  median: number;
  mean: number;
  min: number;
  max: number;
  p10: number;
  p90: number;
  stdev: number;
  spread: number;
}
export interface KernelLibrary {
  readonly path: string;
  abiVersion(): number;
  builtWithCuda(): boolean;
  cudaAvailable(): boolean;
  status(): { abiVersion: number; builtWithCuda: boolean; cuda: boolean; message: string };
  convert(
    mode: KernelMode,
    srcDtype: DtypeCode,
    src: Float32Array | Uint16Array,
    dstDtype: DtypeCode,
    dst: Float32Array | Uint16Array,
    n?: number,
  ): void;
  indexReduce(mode: KernelMode, args: IndexReduceArgs): void;
  varlenAttention(mode: "cuda" | "ref", args: AttentionArgs): void;
  checkAttentionParams(args: AttentionArgs): { status: number; code: string; message: string };
  timeConvert(srcDtype: DtypeCode, src: Float32Array | Uint16Array, dstDtype: DtypeCode, timing?: TimingOptions): Float32Array;
  timeIndexReduce(args: IndexReduceArgs, timing?: TimingOptions): Float32Array;
  timeVarlenAttention(args: AttentionArgs, timing?: TimingOptions): Float32Array;
  timeSpin(us: number, timing?: TimingOptions): Float32Array;
  summarize(samples: Float32Array): TimingStats;
  /** The library's host self-check of its event handling; null for libraries that predate it. */
  timingSelfcheck(): { failed: number; report: string } | null;
}
export interface DeviceInfo {
  driverLoaded: boolean;
  cudaDriverVersion?: string;
  deviceCount: number;
  devices: { index: number; name?: string; totalMemory?: number }[];
  message: string;
}
export function load(libPath: string): KernelLibrary;
export function deviceInfo(): DeviceInfo;
export const abiVersion: number;
export const dtypes: { f32: 0; f16: 1; bf16: 2 };
export const reduces: { prod: 0; mean: 1; amax: 2; amin: 3 };
