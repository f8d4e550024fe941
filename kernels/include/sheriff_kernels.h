/*
 * sheriff_kernels.h -- stable C ABI of the Sheriff test kernels.
 *
 * Plain C, no C++ types. Every function returns an int status (SK_OK == 0);
 * on failure sk_last_error() returns a message (thread-local, valid until the
 * next call on the same thread).
 *
 * Conventions
 *  - fp16 / bf16 data are passed as uint16_t bit patterns (void* where the
 *    dtype is a runtime argument, see sk_dtype).
 *  - Functions without a suffix run on the GPU: pointers are DEVICE pointers,
 *    `stream` is a cudaStream_t passed as void* (NULL = legacy default stream).
 *    They are asynchronous with respect to the host.
 *  - `_host` functions run the SAME implementation code as the GPU kernels
 *    (shared __host__ __device__ element functions) on the CPU, host pointers.
 *  - `_ref` functions are the independently written CPU references, host
 *    pointers. They share no element-level code with the implementation.
 *  - In a CPU-only build (SHERIFF_KERNELS_CUDA=OFF) the GPU functions return
 *    SK_ERR_NO_CUDA and sk_cuda_available() returns 0.
 *  - All tensors are contiguous, row-major.
 *
 * Keep this ABI stable: add, do not change.
 */
#ifndef SHERIFF_KERNELS_H
#define SHERIFF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SK_API __declspec(dllexport)
#else
#define SK_API __attribute__((visibility("default")))
#endif

#define SK_ABI_VERSION 1

/* ---- status codes -------------------------------------------------------- */
enum sk_status {
  SK_OK = 0,
  SK_ERR_INVALID = 1,      /* bad argument (null pointer, bad shape, ...)      */
  SK_ERR_UNSUPPORTED = 2,  /* valid request the kernel does not support        */
  SK_ERR_CUDA = 3,         /* a CUDA runtime call failed                        */
  SK_ERR_NO_CUDA = 4,      /* built without CUDA, or no driver/device           */
  SK_ERR_TIMING = 5        /* timing library detected a misuse (see message)    */
};

/* ---- dtypes --------------------------------------------------------------- */
enum sk_dtype { SK_F32 = 0, SK_F16 = 1, SK_BF16 = 2 };

/* ---- generic ---------------------------------------------------------------*/
SK_API const char* sk_last_error(void);
SK_API int sk_abi_version(void);
/* 1 when the library was built with CUDA AND a driver + at least one device
 * are usable; 0 otherwise (never crashes, never aborts). */
SK_API int sk_cuda_available(void);
/* 1 when the library was built with CUDA kernels. */
SK_API int sk_built_with_cuda(void);
/* Synchronise a stream (void* cudaStream_t). */
SK_API int sk_stream_synchronize(void* stream);
/* Device memory helpers (used by the Node addon; torch users don't need them). */
SK_API int sk_malloc(void** ptr, size_t bytes);
SK_API int sk_free(void* ptr);
SK_API int sk_memcpy_h2d(void* dst, const void* src, size_t bytes);
SK_API int sk_memcpy_d2h(void* dst, const void* src, size_t bytes);

/* ===========================================================================
 * 1. Varlen attention forward (inference path)
 * ===========================================================================
 * q   [total_q, num_heads,    head_dim]
 * k,v [total_k, num_heads_kv, head_dim]                (non-paged)
 * k_cache,v_cache [num_pages, page_size, num_heads_kv, head_dim] (paged)
 * page_table [batch, max_pages_per_seq] int32            (paged)
 * out [total_q, num_heads, head_dim]  (same dtype as q)
 * lse [num_heads, total_q] float32 (optional, NULL = not written), natural log.
 *
 * Sequence b: queries q[cu_seqlens_q[b] .. cu_seqlens_q[b+1]).
 * Keys: seqlen_k(b) = seqused_k ? seqused_k[b] : cu_seqlens_k[b+1]-cu_seqlens_k[b].
 *   non-paged: key j of sequence b is row cu_seqlens_k[b] + j of k/v.
 *   paged:     key j is k_cache[page_table[b][j / page_size]][j % page_size];
 *              cu_seqlens_k may be NULL when seqused_k is given.
 *   Keys at j >= seqlen_k(b) are never read (their buffer may hold anything).
 * Masking (queries i in [0,Lq), keys j in [0,Lk), offset = Lk - Lq, i.e.
 * bottom-right aligned):
 *   causal:            j <= i + offset
 *   window_left  >= 0: j >= i + offset - window_left
 *   window_right >= 0: j <= i + offset + window_right   (causal => right = 0)
 *   negative window value = unbounded on that side.
 * A query row with no valid key gets out = 0 and lse = +inf.
 * dtype: SK_F16 or SK_BF16. head_dim: 64, 128, 256. num_heads % num_heads_kv == 0.
 * Paged: page_size must be a multiple of 16 (else SK_ERR_UNSUPPORTED).
 * The GPU entry points also require q, k, v, k_cache, v_cache and out to be
 * 16-byte aligned (else SK_ERR_UNSUPPORTED); the CPU reference does not.
 * batch == 0 or empty sequences are fine (nothing / zeros written).
 * max_seqlen_q / max_seqlen_k must be >= every sequence's length (used for the
 * launch grid; larger values only cost idle blocks).
 */
typedef struct sk_attn_params {
  int32_t dtype;            /* SK_F16 / SK_BF16 */
  int32_t batch;
  int32_t num_heads;
  int32_t num_heads_kv;
  int32_t head_dim;
  int32_t total_q;
  int32_t total_k;          /* rows of k/v (non-paged); ignored when paged */
  int32_t max_seqlen_q;
  int32_t max_seqlen_k;
  float softmax_scale;      /* <= 0 means 1/sqrt(head_dim) */
  int32_t causal;
  int32_t window_left;      /* -1 = unbounded */
  int32_t window_right;     /* -1 = unbounded */
  const void* q;
  const void* k;            /* NULL when paged */
  const void* v;            /* NULL when paged */
  const int32_t* cu_seqlens_q;  /* [batch+1] */
  const int32_t* cu_seqlens_k;  /* [batch+1], may be NULL when paged with seqused_k */
  const int32_t* seqused_k;     /* [batch] or NULL */
  /* paged KV (all NULL/0 when not paged) */
  const void* k_cache;
  const void* v_cache;
  const int32_t* page_table;    /* [batch, max_pages_per_seq] */
  int32_t num_pages;
  int32_t page_size;
  int32_t max_pages_per_seq;
  /* outputs */
  void* out;                /* [total_q, num_heads, head_dim] */
  float* lse;               /* [num_heads, total_q] or NULL */
  /* 0 = automatic; >1 forces a split-KV launch with that many splits (tests) */
  int32_t num_splits;
} sk_attn_params;

/* GPU: writes into p->out (and p->lse if non-NULL). */
SK_API int sk_varlen_attn_fwd(const sk_attn_params* p, void* stream);
/* GPU, "returns a new output": allocates out (and lse when want_lse) with
 * cudaMalloc, ignoring p->out/p->lse; free them with sk_free. */
SK_API int sk_varlen_attn_fwd_alloc(const sk_attn_params* p, int want_lse,
                                    void** out_new, float** lse_new, void* stream);
/* CPU reference (host pointers, float accumulation, independent code). */
SK_API int sk_varlen_attn_ref(const sk_attn_params* p);
/* Validate parameters as the GPU entry point does (no launch; the GPU entry
 * point additionally checks 16-byte pointer alignment); host testable.
 * Returns SK_OK / SK_ERR_INVALID / SK_ERR_UNSUPPORTED. */
SK_API int sk_varlen_attn_check_params(const sk_attn_params* p);

/* ===========================================================================
 * 2. index_reduce along dim 0 (PyTorch Tensor.index_reduce_(0, index, source,
 *    reduce, include_self=...)), in place on `self`.
 * ===========================================================================
 * self   [self_rows, row_size]   dtype
 * index  [n_index] int64, each in [0, self_rows)
 * source [n_index, row_size]     dtype
 * reduce: SK_REDUCE_*; dtype: SK_F32 / SK_F16 / SK_BF16.
 * Accumulation is in float32 (deterministic), rounded once to the dtype, in
 * this fixed order per target row: the source rows indexed to the row, in
 * ascending source-row order, are cut into consecutive groups of
 * SK_INDEX_REDUCE_GROUP rows (the last group may be shorter). Group 0 is
 * combined row by row into the start value (self, or the identity when
 * include_self=0). Every later group is combined row by row on its own,
 * starting from its first row, and its result is then combined into the
 * accumulator, groups in ascending order:
 *   acc = init; for s in group 0: acc = acc (op) src[s]
 *   for each later group g: p = src[g0]; for s in g after g0: p = p (op) src[s];
 *                           acc = acc (op) p
 * (op) is * for prod, + for mean (then divided by count + include_self), and
 * max/min with NaN propagation for amax/amin (order-independent). A row that
 * receives at most SK_INDEX_REDUCE_GROUP source rows is thus combined strictly
 * in ascending source order. (Before 2026-12-02 the order was strictly
 * ascending for every row; the groups let hot rows spread over the GPU.)
 */
#define SK_INDEX_REDUCE_GROUP 256
enum sk_reduce { SK_REDUCE_PROD = 0, SK_REDUCE_MEAN = 1, SK_REDUCE_AMAX = 2, SK_REDUCE_AMIN = 3 };

SK_API int sk_index_reduce(int dtype, void* self, int64_t self_rows, int64_t row_size,
                           const int64_t* index, int64_t n_index, const void* source,
                           int reduce, int include_self, void* stream);
SK_API int sk_index_reduce_host(int dtype, void* self, int64_t self_rows, int64_t row_size,
                                const int64_t* index, int64_t n_index, const void* source,
                                int reduce, int include_self);
SK_API int sk_index_reduce_ref(int dtype, void* self, int64_t self_rows, int64_t row_size,
                               const int64_t* index, int64_t n_index, const void* source,
                               int reduce, int include_self);

/* ===========================================================================
 * 3. Half-precision conversion: SK_F32 -> SK_F16/SK_BF16 and back.
 *    Round-to-nearest-even, IEEE NaN/Inf/subnormal/overflow behaviour.
 *    NaN outputs: f32->f16 gives sign|0x7E00, f32->bf16 gives 0x7FC0 (as
 *    PyTorch CPU); f16/bf16->f32 keep sign and payload (quiet bit set).
 * =========================================================================== */
SK_API int sk_convert(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n,
                      void* stream);
SK_API int sk_convert_host(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n);
SK_API int sk_convert_ref(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n);

/* ===========================================================================
 * 4. CUDA event timing (see also sheriff_timing.h for the C++ API)
 * =========================================================================== */
/* Callback that enqueues the work to time on `stream` (the same stream the
 * events are recorded on). `rep` is the repetition index (negative during
 * warm-up). Return 0 on success. */
typedef int (*sk_launch_fn)(void* user, int rep, void* stream);

typedef struct sk_timing_options {
  int32_t warmup;           /* warm-up calls (not timed) */
  int32_t reps;             /* timed repetitions (samples) */
  int64_t flush_bytes;      /* >0: memset a buffer this big before every rep (L2 flush) */
  int32_t verify_stream;    /* 1: capture one call and fail if it enqueued nothing on `stream` */
  int32_t hold_us;          /* >0: enqueue a spin kernel of this many us before the reps so the
                               host runs ahead of the GPU (launch overhead stays out) */
} sk_timing_options;

typedef struct sk_timing_stats {
  int32_t n;
  double median_us, mean_us, min_us, max_us, p10_us, p90_us, stdev_us;
  double spread;            /* (p90 - p10) / median */
} sk_timing_stats;

SK_API void sk_timing_default_options(sk_timing_options* o);
/* Times `reps` calls of fn on stream; writes reps samples (microseconds). */
SK_API int sk_time_launches(void* stream, sk_launch_fn fn, void* user,
                            const sk_timing_options* opts, float* samples_us);
SK_API int sk_timing_summarize(const float* samples_us, int32_t n, sk_timing_stats* out);
/* Elapsed time between two user events (cudaEvent_t as void*): waits for
 * `end` to complete (never returns "not ready"), rejects events created with
 * cudaEventDisableTiming with SK_ERR_TIMING. */
SK_API int sk_event_elapsed_us(void* start_event, void* end_event, double* us);
/* Host self-check of the event handling (sk_timing_logic.h) against a fake event backend
 * that behaves like the CUDA runtime; returns the number of failed checks and writes one
 * line per check to `report`. Works with or without a GPU. */
SK_API int sk_timing_selfcheck_host(char* report, int32_t report_len);
/* Test helper: enqueue a kernel that spins for `us` microseconds on stream. */
SK_API int sk_spin_kernel(void* stream, double us);

#ifdef __cplusplus
}
#endif
#endif /* SHERIFF_KERNELS_H */
