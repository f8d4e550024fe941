// sheriff_native -- Sheriff's Node addon for the Sheriff test kernels.
//
// The addon does NOT link CUDA or the kernels library. It dlopen()s a
// libsheriff_kernels.so by path at run time (KernelLibrary.load), checks
// sk_abi_version() and resolves the C ABI of kernels/include/sheriff_kernels.h
// with dlsym. So one build of the addon (made by `npm install`) can test the
// kernels as they are at any commit: the harness builds kernels/ at that commit
// and the suite child process loads THAT library.
//
// Device info comes from the CUDA driver API (libcuda.so.1, also dlopen()ed),
// so the addon loads and answers on a machine with no GPU and no driver.
//
// Every kernel entry takes a mode: "cuda" (device buffers, GPU kernel),
// "host" (the implementation code executed on the CPU, *_host) or "ref" (the
// independent CPU reference, *_ref). Buffers are TypedArrays; outputs are
// written into the arrays passed in. Failures throw a JS Error carrying
// sk_last_error()'s message.
#include <dlfcn.h>
#include <napi.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "sheriff_kernels.h"

namespace {

struct Api {
  const char* (*last_error)(void) = nullptr;
  int (*abi_version)(void) = nullptr;
  int (*cuda_available)(void) = nullptr;
  int (*built_with_cuda)(void) = nullptr;
  int (*stream_synchronize)(void*) = nullptr;
  int (*malloc_)(void**, size_t) = nullptr;
  int (*free_)(void*) = nullptr;
  int (*h2d)(void*, const void*, size_t) = nullptr;
  int (*d2h)(void*, const void*, size_t) = nullptr;
  int (*attn_fwd)(const sk_attn_params*, void*) = nullptr;
  int (*attn_fwd_alloc)(const sk_attn_params*, int, void**, float**, void*) = nullptr;
  int (*attn_ref)(const sk_attn_params*) = nullptr;
  int (*attn_check)(const sk_attn_params*) = nullptr;
  int (*ir)(int, void*, int64_t, int64_t, const int64_t*, int64_t, const void*, int, int, void*) = nullptr;
  int (*ir_host)(int, void*, int64_t, int64_t, const int64_t*, int64_t, const void*, int, int) = nullptr;
  int (*ir_ref)(int, void*, int64_t, int64_t, const int64_t*, int64_t, const void*, int, int) = nullptr;
  int (*convert)(int, const void*, int, void*, int64_t, void*) = nullptr;
  int (*convert_host)(int, const void*, int, void*, int64_t) = nullptr;
  int (*convert_ref)(int, const void*, int, void*, int64_t) = nullptr;
  void (*timing_defaults)(sk_timing_options*) = nullptr;
  int (*time_launches)(void*, sk_launch_fn, void*, const sk_timing_options*, float*) = nullptr;
  int (*timing_summarize)(const float*, int32_t, sk_timing_stats*) = nullptr;
  int (*spin_kernel)(void*, double) = nullptr;
  // Optional: libraries built from older commits may predate it.
  int (*timing_selfcheck)(char*, int32_t) = nullptr;
};

template <class F>
void Resolve(void* handle, const char* name, F& slot, std::vector<std::string>& missing) {
  void* sym = dlsym(handle, name);
  if (!sym) missing.push_back(name);
  slot = reinterpret_cast<F>(sym);
}

enum class Mode { Cuda, Host, Ref, Check };

Mode ParseMode(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(env, "mode must be \"cuda\", \"host\" or \"ref\"");
  const std::string s = v.As<Napi::String>();
  if (s == "cuda") return Mode::Cuda;
  if (s == "host") return Mode::Host;
  if (s == "ref") return Mode::Ref;
  if (s == "check") return Mode::Check;
  throw Napi::TypeError::New(env, "unknown mode \"" + s + "\" (cuda, host, ref)");
}

struct Span {
  void* data = nullptr;
  size_t bytes = 0;
};

Span SpanOf(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string(what) + " must be a TypedArray");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  Span s;
  s.data = static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset();
  s.bytes = ta.ByteLength();
  return s;
}

Span OptSpan(const Napi::Env& env, const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return Span{};
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return Span{};
  return SpanOf(env, v, key);
}

int32_t IntField(const Napi::Object& o, const char* key, int32_t dflt) {
  if (!o.Has(key)) return dflt;
  Napi::Value v = o.Get(key);
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) return dflt;
  return v.As<Napi::Number>().Int32Value();
}

int64_t Int64Arg(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

size_t DtypeSize(int dtype) { return dtype == SK_F32 ? 4 : 2; }

class KernelLibrary;

// Device buffers freed on scope exit (CUDA mode).
class DeviceArena {
 public:
  explicit DeviceArena(const Api& api) : api_(api) {}
  ~DeviceArena() {
    for (void* p : ptrs_) api_.free_(p);
  }
  // Allocates and uploads a host span; returns nullptr for an empty/absent span.
  void* Upload(const Napi::Env& env, const Span& s, const char* what);
  void Download(const Napi::Env& env, const Span& host, const void* dev, const char* what);
  void Check(const Napi::Env& env, int st, const std::string& what);

 private:
  const Api& api_;
  std::vector<void*> ptrs_;
};

class KernelLibrary : public Napi::ObjectWrap<KernelLibrary> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "KernelLibrary",
                       {
                           InstanceMethod("abiVersion", &KernelLibrary::AbiVersion),
                           InstanceMethod("builtWithCuda", &KernelLibrary::BuiltWithCuda),
                           InstanceMethod("cudaAvailable", &KernelLibrary::CudaAvailable),
                           InstanceMethod("status", &KernelLibrary::Status),
                           InstanceMethod("convert", &KernelLibrary::Convert),
                           InstanceMethod("indexReduce", &KernelLibrary::IndexReduce),
                           InstanceMethod("varlenAttention", &KernelLibrary::VarlenAttention),
                           InstanceMethod("checkAttentionParams", &KernelLibrary::CheckAttentionParams),
                           InstanceMethod("timeConvert", &KernelLibrary::TimeConvert),
                           InstanceMethod("timeIndexReduce", &KernelLibrary::TimeIndexReduce),
                           InstanceMethod("timeVarlenAttention", &KernelLibrary::TimeVarlenAttention),
                           InstanceMethod("timeSpin", &KernelLibrary::TimeSpin),
                           InstanceMethod("summarize", &KernelLibrary::Summarize),
                           InstanceMethod("timingSelfcheck", &KernelLibrary::TimingSelfcheck),
                           InstanceAccessor("path", &KernelLibrary::Path, nullptr),
                       });
  }

  KernelLibrary(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KernelLibrary>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "load(libPath: string)");
    path_ = info[0].As<Napi::String>();
    handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* e = dlerror();
      throw Napi::Error::New(env, "cannot load kernels library " + path_ + ": " + (e ? e : "dlopen failed"));
    }
    std::vector<std::string> missing;
    Resolve(handle_, "sk_last_error", api_.last_error, missing);
    Resolve(handle_, "sk_abi_version", api_.abi_version, missing);
    if (!missing.empty()) Fail(env, "is not a Sheriff kernels library (no sk_abi_version / sk_last_error)");
    const int abi = api_.abi_version();
    if (abi != SK_ABI_VERSION)
      Fail(env, "has ABI version " + std::to_string(abi) + ", this addon speaks " + std::to_string(SK_ABI_VERSION));
    Resolve(handle_, "sk_cuda_available", api_.cuda_available, missing);
    Resolve(handle_, "sk_built_with_cuda", api_.built_with_cuda, missing);
    Resolve(handle_, "sk_stream_synchronize", api_.stream_synchronize, missing);
    Resolve(handle_, "sk_malloc", api_.malloc_, missing);
    Resolve(handle_, "sk_free", api_.free_, missing);
    Resolve(handle_, "sk_memcpy_h2d", api_.h2d, missing);
    Resolve(handle_, "sk_memcpy_d2h", api_.d2h, missing);
    Resolve(handle_, "sk_varlen_attn_fwd", api_.attn_fwd, missing);
    Resolve(handle_, "sk_varlen_attn_fwd_alloc", api_.attn_fwd_alloc, missing);
    Resolve(handle_, "sk_varlen_attn_ref", api_.attn_ref, missing);
    Resolve(handle_, "sk_varlen_attn_check_params", api_.attn_check, missing);
    Resolve(handle_, "sk_index_reduce", api_.ir, missing);
    Resolve(handle_, "sk_index_reduce_host", api_.ir_host, missing);
    Resolve(handle_, "sk_index_reduce_ref", api_.ir_ref, missing);
    Resolve(handle_, "sk_convert", api_.convert, missing);
    Resolve(handle_, "sk_convert_host", api_.convert_host, missing);
    Resolve(handle_, "sk_convert_ref", api_.convert_ref, missing);
    Resolve(handle_, "sk_timing_default_options", api_.timing_defaults, missing);
    Resolve(handle_, "sk_time_launches", api_.time_launches, missing);
    Resolve(handle_, "sk_timing_summarize", api_.timing_summarize, missing);
    Resolve(handle_, "sk_spin_kernel", api_.spin_kernel, missing);
    api_.timing_selfcheck = reinterpret_cast<int (*)(char*, int32_t)>(dlsym(handle_, "sk_timing_selfcheck_host"));
    if (!missing.empty()) {
      std::string names;
      for (auto& m : missing) names += (names.empty() ? "" : ", ") + m;
      Fail(env, "lacks ABI symbols: " + names);
    }
  }

  ~KernelLibrary() override {
    // Deliberately not dlclose()d: a CUDA runtime inside may have registered
    // atexit handlers and fat binaries; unloading it mid-process is unsafe.
  }

  const Api& api() const { return api_; }

 private:
  [[noreturn]] void Fail(const Napi::Env& env, const std::string& why) {
    dlclose(handle_);
    handle_ = nullptr;
    throw Napi::Error::New(env, "kernels library " + path_ + " " + why);
  }

  void Check(const Napi::Env& env, int st, const std::string& what) {
    if (st == SK_OK) return;
    Napi::Error err = Napi::Error::New(env, what + ": " + api_.last_error());
    err.Set("code", Napi::String::New(env, StatusName(st)));
    err.Set("status", Napi::Number::New(env, st));
    throw err;
  }

  static const char* StatusName(int st) {
    switch (st) {
      case SK_OK: return "SK_OK";
      case SK_ERR_INVALID: return "SK_ERR_INVALID";
      case SK_ERR_UNSUPPORTED: return "SK_ERR_UNSUPPORTED";
      case SK_ERR_CUDA: return "SK_ERR_CUDA";
      case SK_ERR_NO_CUDA: return "SK_ERR_NO_CUDA";
      case SK_ERR_TIMING: return "SK_ERR_TIMING";
      default: return "SK_ERR_UNKNOWN";
    }
  }

  Napi::Value Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }
  Napi::Value AbiVersion(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), api_.abi_version()); }
  Napi::Value BuiltWithCuda(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), api_.built_with_cuda() != 0);
  }
  Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), api_.cuda_available() != 0);
  }

  // { cuda: boolean, builtWithCuda: boolean, message: string }
  Napi::Value Status(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const bool built = api_.built_with_cuda() != 0;
    const bool avail = api_.cuda_available() != 0;
    Napi::Object o = Napi::Object::New(env);
    o.Set("abiVersion", api_.abi_version());
    o.Set("builtWithCuda", built);
    o.Set("cuda", avail);
    std::string msg;
    if (avail) msg = "CUDA device available";
    else if (!built) msg = "no CUDA device: kernels library built without CUDA (CPU references and host execution only)";
    else msg = "no CUDA device: no usable CUDA driver or GPU (CPU references and host execution only)";
    o.Set("message", msg);
    return o;
  }

  // convert(mode, srcDtype, src, dstDtype, dst, n?)
  Napi::Value Convert(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5) throw Napi::TypeError::New(env, "convert(mode, srcDtype, src, dstDtype, dst[, n])");
    const Mode mode = ParseMode(env, info[0]);
    const int sd = info[1].As<Napi::Number>().Int32Value();
    const Span src = SpanOf(env, info[2], "src");
    const int dd = info[3].As<Napi::Number>().Int32Value();
    const Span dst = SpanOf(env, info[4], "dst");
    int64_t n = info.Length() > 5 && !info[5].IsUndefined() ? Int64Arg(env, info[5], "n") : (int64_t)(src.bytes / DtypeSize(sd));
    if ((size_t)n * DtypeSize(sd) > src.bytes || (size_t)n * DtypeSize(dd) > dst.bytes)
      throw Napi::RangeError::New(env, "convert: n exceeds a buffer");
    if (mode == Mode::Host) Check(env, api_.convert_host(sd, src.data, dd, dst.data, n), "sk_convert_host");
    else if (mode == Mode::Ref) Check(env, api_.convert_ref(sd, src.data, dd, dst.data, n), "sk_convert_ref");
    else if (mode == Mode::Cuda) {
      DeviceArena a(api_);
      void* ds = a.Upload(env, src, "src");
      void* dd_ = a.Upload(env, dst, "dst");  // uploads the poisoned output too
      Check(env, api_.convert(sd, ds, dd, dd_, n, nullptr), "sk_convert");
      Check(env, api_.stream_synchronize(nullptr), "sk_convert (synchronize)");
      a.Download(env, dst, dd_, "dst");
    } else throw Napi::TypeError::New(env, "convert: mode must be cuda, host or ref");
    return env.Undefined();
  }

  struct IrArgs {
    int dtype, reduce, include_self;
    Span self, index, source;
    int64_t rows, row_size, n_index;
  };

  IrArgs ParseIr(const Napi::CallbackInfo& info, size_t first) {
    Napi::Env env = info.Env();
    // ({dtype, self, selfRows, rowSize, index (BigInt64Array), source, reduce, includeSelf})
    if (info.Length() <= first || !info[first].IsObject()) throw Napi::TypeError::New(env, "indexReduce: options object expected");
    Napi::Object o = info[first].As<Napi::Object>();
    IrArgs a{};
    a.dtype = IntField(o, "dtype", -1);
    a.reduce = IntField(o, "reduce", -1);
    a.include_self = IntField(o, "includeSelf", 1);
    a.self = SpanOf(env, o.Get("self"), "self");
    a.index = SpanOf(env, o.Get("index"), "index");
    a.source = SpanOf(env, o.Get("source"), "source");
    a.rows = Int64Arg(env, o.Get("selfRows"), "selfRows");
    a.row_size = Int64Arg(env, o.Get("rowSize"), "rowSize");
    a.n_index = (int64_t)(a.index.bytes / 8);
    if (a.dtype < 0 || a.dtype > 2) throw Napi::RangeError::New(env, "indexReduce: bad dtype");
    const size_t es = DtypeSize(a.dtype);
    if ((size_t)(a.rows * a.row_size) * es > a.self.bytes) throw Napi::RangeError::New(env, "indexReduce: self too small");
    if ((size_t)(a.n_index * a.row_size) * es > a.source.bytes) throw Napi::RangeError::New(env, "indexReduce: source too small");
    return a;
  }

  Napi::Value IndexReduce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Mode mode = ParseMode(env, info[0]);
    IrArgs a = ParseIr(info, 1);
    const int64_t* idx = static_cast<const int64_t*>(a.index.data);
    if (mode == Mode::Host)
      Check(env, api_.ir_host(a.dtype, a.self.data, a.rows, a.row_size, idx, a.n_index, a.source.data, a.reduce, a.include_self), "sk_index_reduce_host");
    else if (mode == Mode::Ref)
      Check(env, api_.ir_ref(a.dtype, a.self.data, a.rows, a.row_size, idx, a.n_index, a.source.data, a.reduce, a.include_self), "sk_index_reduce_ref");
    else if (mode == Mode::Cuda) {
      DeviceArena d(api_);
      void* ds = d.Upload(env, a.self, "self");
      void* di = d.Upload(env, a.index, "index");
      void* dsrc = d.Upload(env, a.source, "source");
      Check(env, api_.ir(a.dtype, ds, a.rows, a.row_size, (const int64_t*)di, a.n_index, dsrc, a.reduce, a.include_self, nullptr), "sk_index_reduce");
      Check(env, api_.stream_synchronize(nullptr), "sk_index_reduce (synchronize)");
      d.Download(env, a.self, ds, "self");
    } else throw Napi::TypeError::New(env, "indexReduce: mode must be cuda, host or ref");
    return env.Undefined();
  }

  struct AttnHost {
    sk_attn_params p{};
    Span q, k, v, cuq, cuk, used, kc, vc, pt, out, lse;
    bool alloc = false;
  };

  AttnHost ParseAttn(const Napi::Env& env, const Napi::Value& val, bool sizes = true) {
    if (!val.IsObject()) throw Napi::TypeError::New(env, "varlenAttention: params object expected");
    Napi::Object o = val.As<Napi::Object>();
    AttnHost h;
    sk_attn_params& p = h.p;
    p.dtype = IntField(o, "dtype", SK_F16);
    p.batch = IntField(o, "batch", 0);
    p.num_heads = IntField(o, "numHeads", 0);
    p.num_heads_kv = IntField(o, "numHeadsKv", 0);
    p.head_dim = IntField(o, "headDim", 0);
    p.total_q = IntField(o, "totalQ", 0);
    p.total_k = IntField(o, "totalK", 0);
    p.max_seqlen_q = IntField(o, "maxSeqlenQ", 0);
    p.max_seqlen_k = IntField(o, "maxSeqlenK", 0);
    p.softmax_scale = o.Has("softmaxScale") && o.Get("softmaxScale").IsNumber() ? o.Get("softmaxScale").As<Napi::Number>().FloatValue() : 0.f;
    p.causal = IntField(o, "causal", 0);
    p.window_left = IntField(o, "windowLeft", -1);
    p.window_right = IntField(o, "windowRight", -1);
    p.num_pages = IntField(o, "numPages", 0);
    p.page_size = IntField(o, "pageSize", 0);
    p.max_pages_per_seq = IntField(o, "maxPagesPerSeq", 0);
    p.num_splits = IntField(o, "numSplits", 0);
    h.alloc = IntField(o, "alloc", 0) != 0;
    h.q = OptSpan(env, o, "q");
    h.k = OptSpan(env, o, "k");
    h.v = OptSpan(env, o, "v");
    h.cuq = OptSpan(env, o, "cuSeqlensQ");
    h.cuk = OptSpan(env, o, "cuSeqlensK");
    h.used = OptSpan(env, o, "sequsedK");
    h.kc = OptSpan(env, o, "kCache");
    h.vc = OptSpan(env, o, "vCache");
    h.pt = OptSpan(env, o, "pageTable");
    h.out = OptSpan(env, o, "out");
    h.lse = OptSpan(env, o, "lse");
    if (!sizes) return h;  // validation only: no memory is touched
    const size_t es = DtypeSize(p.dtype);
    const size_t qbytes = (size_t)p.total_q * p.num_heads * p.head_dim * es;
    if (h.q.data && h.q.bytes < qbytes) throw Napi::RangeError::New(env, "varlenAttention: q too small");
    if (h.out.data && h.out.bytes < qbytes) throw Napi::RangeError::New(env, "varlenAttention: out too small");
    if (h.lse.data && h.lse.bytes < (size_t)p.total_q * p.num_heads * 4) throw Napi::RangeError::New(env, "varlenAttention: lse too small");
    if (h.cuq.data && h.cuq.bytes < (size_t)(p.batch + 1) * 4) throw Napi::RangeError::New(env, "varlenAttention: cuSeqlensQ too small");
    if (h.cuk.data && h.cuk.bytes < (size_t)(p.batch + 1) * 4) throw Napi::RangeError::New(env, "varlenAttention: cuSeqlensK too small");
    if (h.used.data && h.used.bytes < (size_t)p.batch * 4) throw Napi::RangeError::New(env, "varlenAttention: sequsedK too small");
    if (h.pt.data && h.pt.bytes < (size_t)p.batch * p.max_pages_per_seq * 4) throw Napi::RangeError::New(env, "varlenAttention: pageTable too small");
    return h;
  }

  static void PointHost(AttnHost& h) {
    sk_attn_params& p = h.p;
    p.q = h.q.data; p.k = h.k.data; p.v = h.v.data;
    p.cu_seqlens_q = (const int32_t*)h.cuq.data; p.cu_seqlens_k = (const int32_t*)h.cuk.data;
    p.seqused_k = (const int32_t*)h.used.data;
    p.k_cache = h.kc.data; p.v_cache = h.vc.data; p.page_table = (const int32_t*)h.pt.data;
    p.out = h.out.data; p.lse = (float*)h.lse.data;
  }

  void PointDevice(const Napi::Env& env, AttnHost& h, DeviceArena& d) {
    sk_attn_params& p = h.p;
    p.q = d.Upload(env, h.q, "q"); p.k = d.Upload(env, h.k, "k"); p.v = d.Upload(env, h.v, "v");
    p.cu_seqlens_q = (const int32_t*)d.Upload(env, h.cuq, "cuSeqlensQ");
    p.cu_seqlens_k = (const int32_t*)d.Upload(env, h.cuk, "cuSeqlensK");
    p.seqused_k = (const int32_t*)d.Upload(env, h.used, "sequsedK");
    p.k_cache = d.Upload(env, h.kc, "kCache"); p.v_cache = d.Upload(env, h.vc, "vCache");
    p.page_table = (const int32_t*)d.Upload(env, h.pt, "pageTable");
    p.out = d.Upload(env, h.out, "out");
    p.lse = (float*)d.Upload(env, h.lse, "lse");
  }

  // varlenAttention(mode, params): mode "cuda" | "ref"; params.alloc=true uses the
  // "returns a new output" entry point (sk_varlen_attn_fwd_alloc) in CUDA mode.
  Napi::Value VarlenAttention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Mode mode = ParseMode(env, info[0]);
    AttnHost h = ParseAttn(env, info[1]);
    if (mode == Mode::Ref) {
      PointHost(h);
      Check(env, api_.attn_ref(&h.p), "sk_varlen_attn_ref");
    } else if (mode == Mode::Cuda) {
      DeviceArena d(api_);
      PointDevice(env, h, d);
      if (h.alloc) {
        void* out_new = nullptr;
        float* lse_new = nullptr;
        int st = api_.attn_fwd_alloc(&h.p, h.lse.data != nullptr, &out_new, &lse_new, nullptr);
        int sync = st == SK_OK ? api_.stream_synchronize(nullptr) : SK_OK;
        if (st == SK_OK && sync == SK_OK) {
          if (h.out.data && out_new) sync = api_.d2h(h.out.data, out_new, h.out.bytes);
          if (sync == SK_OK && h.lse.data && lse_new) sync = api_.d2h(h.lse.data, lse_new, h.lse.bytes);
        }
        if (out_new) api_.free_(out_new);
        if (lse_new) api_.free_(lse_new);
        Check(env, st, "sk_varlen_attn_fwd_alloc");
        Check(env, sync, "sk_varlen_attn_fwd_alloc (copy back)");
      } else {
        Check(env, api_.attn_fwd(&h.p, nullptr), "sk_varlen_attn_fwd");
        Check(env, api_.stream_synchronize(nullptr), "sk_varlen_attn_fwd (synchronize)");
        if (h.out.data) d.Download(env, h.out, h.p.out, "out");
        if (h.lse.data) d.Download(env, h.lse, h.p.lse, "lse");
      }
    } else if (mode == Mode::Check) {
      PointHost(h);
      return Napi::Number::New(env, api_.attn_check(&h.p));
    } else {
      throw Napi::Error::New(env, "varlenAttention: no host execution of the attention implementation in the kernels ABI (modes: cuda, ref)");
    }
    return env.Undefined();
  }

  // checkAttentionParams(params) -> {status, message}: the GPU entry point's validation, on the host.
  Napi::Value CheckAttentionParams(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AttnHost h = ParseAttn(env, info[0], false);
    PointHost(h);
    const int st = api_.attn_check(&h.p);
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", st);
    o.Set("code", StatusName(st));
    o.Set("message", st == SK_OK ? std::string() : std::string(api_.last_error()));
    return o;
  }

  sk_timing_options ParseTiming(const Napi::Env& env, const Napi::Value& v) {
    sk_timing_options o;
    api_.timing_defaults(&o);
    if (v.IsObject()) {
      Napi::Object t = v.As<Napi::Object>();
      o.warmup = IntField(t, "warmup", o.warmup);
      o.reps = IntField(t, "reps", o.reps);
      if (t.Has("flushBytes") && t.Get("flushBytes").IsNumber()) o.flush_bytes = t.Get("flushBytes").As<Napi::Number>().Int64Value();
      o.verify_stream = IntField(t, "verifyStream", o.verify_stream);
      o.hold_us = IntField(t, "holdUs", o.hold_us);
    }
    if (o.reps <= 0 || o.reps > 100000) throw Napi::RangeError::New(env, "timing: reps must be in [1, 100000]");
    return o;
  }

  static int Trampoline(void* user, int rep, void* stream) {
    auto* fn = static_cast<std::function<int(int, void*)>*>(user);
    return (*fn)(rep, stream);
  }

  Napi::Value Time(const Napi::Env& env, const sk_timing_options& o, std::function<int(int, void*)> fn, const std::string& what) {
    Napi::Float32Array samples = Napi::Float32Array::New(env, (size_t)o.reps);
    Check(env, api_.time_launches(nullptr, &KernelLibrary::Trampoline, &fn, &o, samples.Data()), what);
    return samples;
  }

  // timeConvert(srcDtype, src, dstDtype, n, timing) -> Float32Array of µs samples (CUDA events)
  Napi::Value TimeConvert(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int sd = info[0].As<Napi::Number>().Int32Value();
    const Span src = SpanOf(env, info[1], "src");
    const int dd = info[2].As<Napi::Number>().Int32Value();
    const int64_t n = (int64_t)(src.bytes / DtypeSize(sd));
    const sk_timing_options o = ParseTiming(env, info[3]);
    DeviceArena d(api_);
    void* ds = d.Upload(env, src, "src");
    std::vector<uint8_t> zeros((size_t)n * DtypeSize(dd));
    void* dst = d.Upload(env, Span{zeros.data(), zeros.size()}, "dst");
    auto fn = [&](int, void* stream) { return api_.convert(sd, ds, dd, dst, n, stream); };
    return Time(env, o, fn, "sk_time_launches(sk_convert)");
  }

  // timeIndexReduce({...indexReduce options}, timing)
  Napi::Value TimeIndexReduce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    IrArgs a = ParseIr(info, 0);
    const sk_timing_options o = ParseTiming(env, info[1]);
    DeviceArena d(api_);
    void* ds = d.Upload(env, a.self, "self");
    void* di = d.Upload(env, a.index, "index");
    void* dsrc = d.Upload(env, a.source, "source");
    auto fn = [&](int, void* stream) {
      return api_.ir(a.dtype, ds, a.rows, a.row_size, (const int64_t*)di, a.n_index, dsrc, a.reduce, a.include_self, stream);
    };
    return Time(env, o, fn, "sk_time_launches(sk_index_reduce)");
  }

  // timeVarlenAttention(params, timing)
  Napi::Value TimeVarlenAttention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AttnHost h = ParseAttn(env, info[0]);
    const sk_timing_options o = ParseTiming(env, info[1]);
    DeviceArena d(api_);
    PointDevice(env, h, d);
    auto fn = [&](int, void* stream) { return api_.attn_fwd(&h.p, stream); };
    return Time(env, o, fn, "sk_time_launches(sk_varlen_attn_fwd)");
  }

  // timeSpin(us, timing): times sk_spin_kernel (a kernel of known duration).
  Napi::Value TimeSpin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const double us = info[0].As<Napi::Number>().DoubleValue();
    const sk_timing_options o = ParseTiming(env, info[1]);
    auto fn = [&](int, void* stream) { return api_.spin_kernel(stream, us); };
    return Time(env, o, fn, "sk_time_launches(sk_spin_kernel)");
  }

  // summarize(samples: Float32Array) -> stats (the library's own summary, host code)
  Napi::Value Summarize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, "summarize(samples: Float32Array)");
    Napi::Float32Array s = info[0].As<Napi::Float32Array>();
    sk_timing_stats st{};
    Check(env, api_.timing_summarize(s.Data(), (int32_t)s.ElementLength(), &st), "sk_timing_summarize");
    Napi::Object o = Napi::Object::New(env);
    o.Set("n", st.n); o.Set("median", st.median_us); o.Set("mean", st.mean_us); o.Set("min", st.min_us);
    o.Set("max", st.max_us); o.Set("p10", st.p10_us); o.Set("p90", st.p90_us); o.Set("stdev", st.stdev_us);
    o.Set("spread", st.spread);
    return o;
  }

  // {failed, report} from the library's host self-check of its event handling; null when absent.
  Napi::Value TimingSelfcheck(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!api_.timing_selfcheck) return env.Null();
    std::vector<char> report(4096, 0);
    const int failed = api_.timing_selfcheck(report.data(), (int32_t)report.size());
    Napi::Object o = Napi::Object::New(env);
    o.Set("failed", failed);
    o.Set("report", std::string(report.data()));
    return o;
  }

  std::string path_;
  void* handle_ = nullptr;
  Api api_;
};

void* DeviceArena::Upload(const Napi::Env& env, const Span& s, const char* what) {
  if (!s.data || s.bytes == 0) return nullptr;
  void* p = nullptr;
  Check(env, api_.malloc_(&p, s.bytes), std::string("sk_malloc(") + what + ")");
  ptrs_.push_back(p);
  Check(env, api_.h2d(p, s.data, s.bytes), std::string("sk_memcpy_h2d(") + what + ")");
  return p;
}

void DeviceArena::Download(const Napi::Env& env, const Span& host, const void* dev, const char* what) {
  if (!host.data || !dev) return;
  Check(env, api_.d2h(host.data, dev, host.bytes), std::string("sk_memcpy_d2h(") + what + ")");
}

void DeviceArena::Check(const Napi::Env& env, int st, const std::string& what) {
  if (st == SK_OK) return;
  Napi::Error err = Napi::Error::New(env, what + ": " + api_.last_error());
  err.Set("status", Napi::Number::New(env, st));
  throw err;
}

// ---- CUDA driver (device info), dlopen()ed so no driver is needed to load ----
typedef int (*cuInit_t)(unsigned);
typedef int (*cuDriverGetVersion_t)(int*);
typedef int (*cuDeviceGetCount_t)(int*);
typedef int (*cuDeviceGet_t)(int*, int);
typedef int (*cuDeviceGetName_t)(char*, int, int);
typedef int (*cuDeviceTotalMem_t)(size_t*, int);

// deviceInfo() -> {driverLoaded, cudaDriverVersion?, deviceCount, devices: [{index, name, totalMemory}], message}
Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
  o.Set("devices", devices);
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    o.Set("driverLoaded", false);
    o.Set("deviceCount", 0);
    o.Set("message", "no CUDA device: no CUDA driver (libcuda.so.1 not found)");
    return o;
  }
  o.Set("driverLoaded", true);
  auto init = (cuInit_t)dlsym(h, "cuInit");
  auto ver = (cuDriverGetVersion_t)dlsym(h, "cuDriverGetVersion");
  auto count = (cuDeviceGetCount_t)dlsym(h, "cuDeviceGetCount");
  auto get = (cuDeviceGet_t)dlsym(h, "cuDeviceGet");
  auto name = (cuDeviceGetName_t)dlsym(h, "cuDeviceGetName");
  auto mem = (cuDeviceTotalMem_t)dlsym(h, "cuDeviceTotalMem_v2");
  int v = 0;
  if (ver && ver(&v) == 0) o.Set("cudaDriverVersion", std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10));
  int n = 0;
  const int st = init ? init(0) : -1;
  if (st != 0 || !count || count(&n) != 0) n = 0;
  o.Set("deviceCount", n);
  for (int i = 0; i < n; ++i) {
    int dev = 0;
    if (!get || get(&dev, i) != 0) continue;
    char buf[256] = {0};
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", i);
    if (name && name(buf, sizeof buf, dev) == 0) d.Set("name", std::string(buf));
    size_t bytes = 0;
    if (mem && mem(&bytes, dev) == 0) d.Set("totalMemory", (double)bytes);
    devices.Set((uint32_t)i, d);
  }
  o.Set("message", n > 0 ? std::string("CUDA driver with ") + std::to_string(n) + " device(s)"
                         : std::string("no CUDA device: the CUDA driver reports none (cuInit status ") + std::to_string(st) + ")");
  // libcuda stays loaded: the kernels library's CUDA runtime uses it too.
  return o;
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  return ctor->New({info.Length() > 0 ? info[0] : env.Undefined()});
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = KernelLibrary::Init(env);
  auto* ctor = new Napi::FunctionReference(Napi::Persistent(cls));
  env.SetInstanceData<Napi::FunctionReference>(ctor);
  exports.Set("KernelLibrary", cls);
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("deviceInfo", Napi::Function::New(env, DeviceInfo, "deviceInfo"));
  exports.Set("abiVersion", Napi::Number::New(env, SK_ABI_VERSION));
  exports.Set("dtypes", [&] {
    Napi::Object d = Napi::Object::New(env);
    d.Set("f32", (int)SK_F32); d.Set("f16", (int)SK_F16); d.Set("bf16", (int)SK_BF16);
    return d;
  }());
  exports.Set("reduces", [&] {
    Napi::Object r = Napi::Object::New(env);
    r.Set("prod", (int)SK_REDUCE_PROD); r.Set("mean", (int)SK_REDUCE_MEAN); r.Set("amax", (int)SK_REDUCE_AMAX); r.Set("amin", (int)SK_REDUCE_AMIN);
    return r;
  }());
  return exports;
}

}  // namespace

NODE_API_MODULE(sheriff_native, InitModule)
