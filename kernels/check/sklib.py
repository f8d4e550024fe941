"""ctypes bindings of libsheriff_kernels.so (kernels/include/sheriff_kernels.h)."""
import ctypes as C
import os

SK_F32, SK_F16, SK_BF16 = 0, 1, 2
REDUCES = {"prod": 0, "mean": 1, "amax": 2, "amin": 3}


class AttnParams(C.Structure):
    _fields_ = [
        ("dtype", C.c_int32), ("batch", C.c_int32), ("num_heads", C.c_int32), ("num_heads_kv", C.c_int32),
        ("head_dim", C.c_int32), ("total_q", C.c_int32), ("total_k", C.c_int32), ("max_seqlen_q", C.c_int32),
        ("max_seqlen_k", C.c_int32), ("softmax_scale", C.c_float), ("causal", C.c_int32),
        ("window_left", C.c_int32), ("window_right", C.c_int32),
        ("q", C.c_void_p), ("k", C.c_void_p), ("v", C.c_void_p),
        ("cu_seqlens_q", C.c_void_p), ("cu_seqlens_k", C.c_void_p), ("seqused_k", C.c_void_p),
        ("k_cache", C.c_void_p), ("v_cache", C.c_void_p), ("page_table", C.c_void_p),
        ("num_pages", C.c_int32), ("page_size", C.c_int32), ("max_pages_per_seq", C.c_int32),
        ("out", C.c_void_p), ("lse", C.c_void_p), ("num_splits", C.c_int32),
    ]


class TimingOptions(C.Structure):
    _fields_ = [("warmup", C.c_int32), ("reps", C.c_int32), ("flush_bytes", C.c_int64),
                ("verify_stream", C.c_int32), ("hold_us", C.c_int32)]


class TimingStats(C.Structure):
    _fields_ = [("n", C.c_int32), ("median_us", C.c_double), ("mean_us", C.c_double), ("min_us", C.c_double),
                ("max_us", C.c_double), ("p10_us", C.c_double), ("p90_us", C.c_double),
                ("stdev_us", C.c_double), ("spread", C.c_double)]


LAUNCH_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_int, C.c_void_p)


def default_lib_path():
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.environ.get("SHERIFF_KERNELS_LIB", ""),
                 os.path.join(here, "..", "build", "libsheriff_kernels.so")):
        if cand and os.path.exists(cand):
            return os.path.abspath(cand)
    raise FileNotFoundError("libsheriff_kernels.so not found: build kernels/ first or set SHERIFF_KERNELS_LIB")


class Lib:
    def __init__(self, path=None):
        self.lib = C.CDLL(path or default_lib_path())
        L = self.lib
        L.sk_last_error.restype = C.c_char_p
        vp, i32, i64 = C.c_void_p, C.c_int, C.c_int64
        for name in ("sk_varlen_attn_fwd",):
            getattr(L, name).argtypes = [C.POINTER(AttnParams), vp]
        L.sk_varlen_attn_ref.argtypes = [C.POINTER(AttnParams)]
        L.sk_varlen_attn_fwd_alloc.argtypes = [C.POINTER(AttnParams), i32, C.POINTER(vp), C.POINTER(vp), vp]
        L.sk_index_reduce.argtypes = [i32, vp, i64, i64, vp, i64, vp, i32, i32, vp]
        L.sk_index_reduce_ref.argtypes = [i32, vp, i64, i64, vp, i64, vp, i32, i32]
        L.sk_index_reduce_host.argtypes = [i32, vp, i64, i64, vp, i64, vp, i32, i32]
        L.sk_convert.argtypes = [i32, vp, i32, vp, i64, vp]
        L.sk_convert_ref.argtypes = [i32, vp, i32, vp, i64]
        L.sk_convert_host.argtypes = [i32, vp, i32, vp, i64]
        L.sk_free.argtypes = [vp]
        L.sk_time_launches.argtypes = [vp, LAUNCH_FN, vp, C.POINTER(TimingOptions), C.POINTER(C.c_float)]
        L.sk_timing_summarize.argtypes = [C.POINTER(C.c_float), C.c_int32, C.POINTER(TimingStats)]
        L.sk_timing_default_options.argtypes = [C.POINTER(TimingOptions)]

    def err(self):
        return self.lib.sk_last_error().decode()

    def check(self, st, what):
        if st != 0:
            raise RuntimeError(f"{what}: status {st}: {self.err()}")

    def time_launches(self, stream_ptr, fn, warmup=5, reps=30, flush_bytes=256 << 20, verify_stream=0, hold_us=0):
        """fn(rep) enqueues work on the stream; returns list of per-rep microseconds."""
        def cb(user, rep, stream):
            try:
                r = fn(rep)
                return r if isinstance(r, int) else 0
            except Exception as e:  # noqa: BLE001
                print("timing callback error:", e)
                return 1
        cfn = LAUNCH_FN(cb)
        o = TimingOptions(warmup, reps, flush_bytes, verify_stream, hold_us)
        samples = (C.c_float * reps)()
        st = self.lib.sk_time_launches(C.c_void_p(stream_ptr), cfn, None, C.byref(o), samples)
        self.check(st, "sk_time_launches")
        return list(samples)

    def summarize(self, samples):
        arr = (C.c_float * len(samples))(*samples)
        s = TimingStats()
        self.check(self.lib.sk_timing_summarize(arr, len(samples), C.byref(s)), "summarize")
        return {k: getattr(s, k) for k, _ in TimingStats._fields_}
