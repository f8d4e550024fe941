#!/usr/bin/env python3
"""Benchmark of the Sheriff kernels against PyTorch on the same GPU, in one run.
All timings go through the project's timing library (libsheriff_kernels.so,
sk_time_launches: events on the kernel's stream, warm-up, L2 flush before
every rep, per-rep samples; median and p10/p90 spread reported).

  python3 bench/kernels/bench.py --out results.json --md results.md
"""
import argparse
import ctypes as C
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "kernels", "check"))
import sklib  # noqa: E402

PEAK_BF16_TFLOPS = 989.0   # H100 SXM dense bf16 (datasheet); floors use it
COPY_GBS = 3000.0          # replaced by the measured copy bandwidth below
# prefill variants timed (SK_ATTN_VARIANT): 1/2 mma.sync, 3/4 wgmma (128/64-key tiles)
BENCH_VARIANTS = [v for v in os.environ.get("BENCH_ATTN_VARIANTS", "1,2,3,4,5").split(",") if v]


def default_variant(D, max_q):
    """The library's default prefill variant on an H100 (attention.cu default_variant_sm90)."""
    return "4" if D == 64 else "5"



def seqlens(gen, B, nominal):
    lo, hi = max(1, nominal // 2), nominal + nominal // 2
    return torch.randint(lo, hi + 1, (B,), generator=gen).tolist()


def stats(lib, samples):
    s = lib.summarize(samples)
    return {"median_us": s["median_us"], "p10_us": s["p10_us"], "p90_us": s["p90_us"], "spread": s["spread"], "n": s["n"]}


def time_fn(lib, fn, reps=20, warmup=3, flush=256 << 20, hold_us=5000):
    stream = torch.cuda.current_stream().cuda_stream
    samples = lib.time_launches(stream, fn, warmup=warmup, reps=reps, flush_bytes=flush, hold_us=hold_us)
    return stats(lib, samples)


def bench_attention(lib, gen, results, quick=False):
    dev = "cuda"
    dt = torch.bfloat16
    H = Hk = 16
    shapes = []
    for D in (64, 128):
        for causal in (False, True):
            for B, nominal in ((16, 2048), (64, 512), (4, 8192)):
                shapes.append(dict(D=D, causal=causal, B=B, nominal=nominal, decode=False))
    shapes.append(dict(D=128, causal=False, B=64, nominal=4096, decode=True))
    shapes.append(dict(D=64, causal=False, B=64, nominal=4096, decode=True))
    if quick:
        shapes = shapes[:2] + shapes[-1:]
    for sh in shapes:
        D, causal, B, decode = sh["D"], sh["causal"], sh["B"], sh["decode"]
        lk = seqlens(gen, B, sh["nominal"])
        lq = [1] * B if decode else lk
        cu_q = torch.tensor([0] + list(torch.tensor(lq).cumsum(0).tolist()), dtype=torch.int32, device=dev)
        cu_k = torch.tensor([0] + list(torch.tensor(lk).cumsum(0).tolist()), dtype=torch.int32, device=dev)
        tq, tk = int(cu_q[-1]), int(cu_k[-1])
        q = torch.randn(tq, H, D, device=dev, dtype=dt)
        k = torch.randn(tk, Hk, D, device=dev, dtype=dt)
        v = torch.randn(tk, Hk, D, device=dev, dtype=dt)
        out = torch.empty_like(q)
        scale = 1.0 / math.sqrt(D)
        p = sklib.AttnParams()
        p.dtype = sklib.SK_BF16; p.batch = B; p.num_heads = H; p.num_heads_kv = Hk; p.head_dim = D
        p.total_q = tq; p.total_k = tk; p.max_seqlen_q = max(lq); p.max_seqlen_k = max(lk)
        p.softmax_scale = scale; p.causal = int(causal); p.window_left = -1; p.window_right = -1
        p.q = q.data_ptr(); p.cu_seqlens_q = cu_q.data_ptr(); p.cu_seqlens_k = cu_k.data_ptr()
        p.out = out.data_ptr(); p.lse = None
        name = f"{'decode paged' if decode else 'prefill'} B={B} ~{sh['nominal']} d{D} {'causal' if causal else 'full'}"
        if decode:  # paged KV, page 256
            ps = 256
            maxp = (max(lk) + ps - 1) // ps
            kc = torch.randn(B * maxp, ps, Hk, D, device=dev, dtype=dt)
            vc = torch.randn(B * maxp, ps, Hk, D, device=dev, dtype=dt)
            table = torch.randperm(B * maxp, device=dev).to(torch.int32).reshape(B, maxp).contiguous()
            # make the contiguous k/v equal to the paged content so torch computes the same thing
            for b in range(B):
                n = lk[b]
                rows = kc[table[b].long()].reshape(-1, Hk, D)[:n]
                k[int(cu_k[b]):int(cu_k[b]) + n] = rows
                v[int(cu_k[b]):int(cu_k[b]) + n] = vc[table[b].long()].reshape(-1, Hk, D)[:n]
            p.k_cache = kc.data_ptr(); p.v_cache = vc.data_ptr(); p.page_table = table.data_ptr()
            p.num_pages = B * maxp; p.page_size = ps; p.max_pages_per_seq = maxp
            p.k = None; p.v = None
        else:
            p.k = k.data_ptr(); p.v = v.data_ptr()
        flops = sum(4.0 * a * b_ * D * H for a, b_ in zip(lq, lk)) * (0.5 if causal else 1.0)
        bytes_ = (2 * tq * H * D + 2 * tk * Hk * D) * 2
        t_floor_us = max(flops / (PEAK_BF16_TFLOPS * 1e12), bytes_ / (COPY_GBS * 1e9)) * 1e6
        stream = torch.cuda.current_stream().cuda_stream
        pref = C.byref(p)

        def ours(rep):
            return lib.lib.sk_varlen_attn_fwd(pref, C.c_void_p(stream))

        from torch.nn.attention.varlen import varlen_attn
        ws = (-1, 0) if causal else (-1, -1)

        def fa2(rep):
            varlen_attn(q, k, v, cu_q, cu_k, max(lq), max(lk), scale=scale, window_size=ws)

        # cuDNN on the padded batch [B, H, Lmax, D]
        Lq_max, Lk_max = max(lq), max(lk)
        qp = torch.zeros(B, Lq_max, H, D, device=dev, dtype=dt)
        kp = torch.zeros(B, Lk_max, Hk, D, device=dev, dtype=dt)
        vp = torch.zeros(B, Lk_max, Hk, D, device=dev, dtype=dt)
        for b in range(B):
            qp[b, :lq[b]] = q[int(cu_q[b]):int(cu_q[b + 1])]
            kp[b, :lk[b]] = k[int(cu_k[b]):int(cu_k[b + 1])]
            vp[b, :lk[b]] = v[int(cu_k[b]):int(cu_k[b + 1])]
        qp, kp, vp = (x.transpose(1, 2) for x in (qp, kp, vp))
        from torch.nn.attention import sdpa_kernel, SDPBackend

        def cudnn(rep):
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                F.scaled_dot_product_attention(qp, kp, vp, is_causal=causal and not decode, scale=scale)

        row = {"shape": name, "D": D, "causal": causal, "B": B, "nominal": sh["nominal"], "decode": decode,
               "flops": flops, "bytes": bytes_, "floor_us": t_floor_us,
               "padded_flops": 4.0 * B * Lq_max * Lk_max * D * H * (0.5 if causal and not decode else 1.0)}
        variants = [("ours", None)] if decode else [(f"ours_v{v}", v) for v in BENCH_VARIANTS]
        for label, fn in [(v[0], ours) for v in variants] + [("varlen_attn_fa2", fa2), ("cudnn_padded", cudnn)]:
            try:
                var = dict(variants).get(label)
                if var:
                    os.environ["SK_ATTN_VARIANT"] = var
                s = time_fn(lib, fn)
                os.environ.pop("SK_ATTN_VARIANT", None)
                s["tflops"] = flops / (s["median_us"] * 1e-6) / 1e12
                if label == "cudnn_padded":
                    s["tflops_padded"] = row["padded_flops"] / (s["median_us"] * 1e-6) / 1e12
                row[label] = s
            except Exception as e:  # noqa: BLE001
                row[label] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
                torch.cuda.synchronize()
        if not decode:
            default = f"ours_v{default_variant(D, max(lq))}"  # the library's default (attention.cu)
            row["ours"] = dict(row[default], variant=default)
        o = row["ours"].get("median_us")
        for ref in ("varlen_attn_fa2", "cudnn_padded"):
            r = row[ref].get("median_us")
            row[f"speedup_vs_{ref}"] = (r / o) if (o and r) else None
        results["attention"].append(row)
        f = lambda x: f"{x:7.1f}" if isinstance(x, (int, float)) and x is not None else "    n/a"  # noqa: E731
        if not decode:
            print("    " + "  ".join(f"v{v} {f(row[f'ours_v{v}'].get('tflops'))}" for v in BENCH_VARIANTS) + " TF/s")
        print(f"{name:<36} ours {f(row['ours'].get('tflops'))} TF/s  fa2 {f(row['varlen_attn_fa2'].get('tflops'))}  "
              f"cudnn {f(row['cudnn_padded'].get('tflops'))} (padded {f(row['cudnn_padded'].get('tflops_padded'))})  "
              f"x_fa2 {row['speedup_vs_varlen_attn_fa2'] or float('nan'):.2f} x_cudnn {row['speedup_vs_cudnn_padded'] or float('nan'):.2f}"
              f"  floor {t_floor_us:.0f}us ours {row['ours'].get('median_us', float('nan')):.0f}us", flush=True)
        del q, k, v, out, qp, kp, vp
        torch.cuda.empty_cache()


def bench_copy(lib, results):
    global COPY_GBS
    n = 1 << 28
    a = torch.randn(n, device="cuda")
    b = torch.empty_like(a)
    s = time_fn(lib, lambda rep: b.copy_(a), reps=20, flush=0)
    gbs = 2 * n * 4 / (s["median_us"] * 1e-6) / 1e9
    COPY_GBS = gbs
    results["copy"] = {"bytes": 2 * n * 4, **s, "GBps": gbs}
    print(f"device copy 1 GiB: {gbs:.0f} GB/s (read+write)")
    del a, b
    torch.cuda.empty_cache()


def bench_convert(lib, results):
    n = 1 << 28
    stream = torch.cuda.current_stream().cuda_stream
    x = torch.randn(n, device="cuda") * 100
    for dst, code in ((torch.bfloat16, sklib.SK_BF16), (torch.float16, sklib.SK_F16)):
        out = torch.empty(n, device="cuda", dtype=dst)
        bytes_ = n * 6
        so = time_fn(lib, lambda rep: lib.lib.sk_convert(sklib.SK_F32, C.c_void_p(x.data_ptr()), code,
                                                          C.c_void_p(out.data_ptr()), n, C.c_void_p(stream)), flush=0)
        os.environ["SK_CONVERT_VARIANT"] = "1"
        so2 = time_fn(lib, lambda rep: lib.lib.sk_convert(sklib.SK_F32, C.c_void_p(x.data_ptr()), code,
                                                           C.c_void_p(out.data_ptr()), n, C.c_void_p(stream)), flush=0)
        os.environ.pop("SK_CONVERT_VARIANT")
        print(f"  convert variant 1 (grid-stride): {bytes_ / so2['median_us'] / 1e3:.0f} GB/s")
        st = time_fn(lib, lambda rep: x.to(dst), flush=0)
        row = {"op": f"f32->{str(dst)[6:]}", "n": n, "bytes": bytes_, "ours": so, "torch": st, "ours_variant1_gridstride": so2,
               "ours_GBps": bytes_ / so["median_us"] / 1e3, "torch_GBps": bytes_ / st["median_us"] / 1e3}
        row["speedup_vs_torch"] = st["median_us"] / so["median_us"]
        row["fraction_of_copy"] = row["ours_GBps"] / COPY_GBS
        results["convert"].append(row)
        print(f"convert {row['op']:<14} ours {row['ours_GBps']:6.0f} GB/s torch {row['torch_GBps']:6.0f} GB/s "
              f"x_torch {row['speedup_vs_torch']:.2f} copy-frac {row['fraction_of_copy']:.2f}", flush=True)
        xb = out
        back = torch.empty(n, device="cuda")
        so = time_fn(lib, lambda rep: lib.lib.sk_convert(code, C.c_void_p(xb.data_ptr()), sklib.SK_F32,
                                                          C.c_void_p(back.data_ptr()), n, C.c_void_p(stream)), flush=0)
        os.environ["SK_CONVERT_VARIANT"] = "1"
        so2 = time_fn(lib, lambda rep: lib.lib.sk_convert(code, C.c_void_p(xb.data_ptr()), sklib.SK_F32,
                                                           C.c_void_p(back.data_ptr()), n, C.c_void_p(stream)), flush=0)
        os.environ.pop("SK_CONVERT_VARIANT")
        print(f"  convert variant 1 (grid-stride): {bytes_ / so2['median_us'] / 1e3:.0f} GB/s")
        st = time_fn(lib, lambda rep: xb.float(), flush=0)
        row = {"op": f"{str(dst)[6:]}->f32", "n": n, "bytes": bytes_, "ours": so, "torch": st, "ours_variant1_gridstride": so2,
               "ours_GBps": bytes_ / so["median_us"] / 1e3, "torch_GBps": bytes_ / st["median_us"] / 1e3}
        row["speedup_vs_torch"] = st["median_us"] / so["median_us"]
        row["fraction_of_copy"] = row["ours_GBps"] / COPY_GBS
        results["convert"].append(row)
        print(f"convert {row['op']:<14} ours {row['ours_GBps']:6.0f} GB/s torch {row['torch_GBps']:6.0f} GB/s "
              f"x_torch {row['speedup_vs_torch']:.2f} copy-frac {row['fraction_of_copy']:.2f}", flush=True)
        del out, back
    del x
    torch.cuda.empty_cache()


def bench_index_reduce(lib, results):
    rows, n, cols = 1 << 16, 1 << 20, 128
    stream = torch.cuda.current_stream().cuda_stream
    for dtype, code in ((torch.float32, sklib.SK_F32), (torch.bfloat16, sklib.SK_BF16)):
        src = (torch.rand(n, cols, device="cuda") * 0.6 + 0.7).to(dtype)
        idx = torch.randint(0, rows, (n,), device="cuda")
        base = (torch.rand(rows, cols, device="cuda") + 0.5).to(dtype)
        es = src.element_size()
        bytes_ = n * cols * es + n * 8 + 2 * rows * cols * es
        for reduce in ("prod", "mean", "amax", "amin"):
            mine = base.clone()
            theirs = base.clone()
            so = time_fn(lib, lambda rep: lib.lib.sk_index_reduce(code, C.c_void_p(mine.data_ptr()), rows, cols,
                                                                   C.c_void_p(idx.data_ptr()), n, C.c_void_p(src.data_ptr()),
                                                                   sklib.REDUCES[reduce], 1, C.c_void_p(stream)), flush=0, reps=15)
            st = time_fn(lib, lambda rep: theirs.index_reduce_(0, idx, src, reduce, include_self=True), flush=0, reps=15)
            row = {"op": f"{str(dtype)[6:]} {reduce}", "rows": rows, "n": n, "cols": cols, "bytes": bytes_,
                   "ours": so, "torch": st, "ours_GBps": bytes_ / so["median_us"] / 1e3,
                   "torch_GBps": bytes_ / st["median_us"] / 1e3, "speedup_vs_torch": st["median_us"] / so["median_us"]}
            row["fraction_of_copy"] = row["ours_GBps"] / COPY_GBS
            results["index_reduce"].append(row)
            print(f"index_reduce {row['op']:<14} ours {so['median_us']/1e3:6.3f} ms ({row['ours_GBps']:5.0f} GB/s) "
                  f"torch {st['median_us']/1e3:6.3f} ms x_torch {row['speedup_vs_torch']:.2f} copy-frac {row['fraction_of_copy']:.2f}",
                  flush=True)
        del src, idx, base
        torch.cuda.empty_cache()


def markdown(results):
    L = [f"# Kernel benchmark {results['date']} on {results['device']} (torch {results['torch']})", "",
         f"Device copy bandwidth (1 GiB copy_, read+write): {results['copy']['GBps']:.0f} GB/s. "
         f"Timing: sheriff timing library, median of 20 reps (15 for index_reduce), L2 flushed (256 MiB memset) "
         f"before every attention rep; spread = (p90-p10)/median.", "",
         "## Varlen attention forward, bf16, H=16 (TFLOP/s on useful FLOPs; causal FLOPs halved)", "",
         "| shape | floor us | ours us (default variant) | ours TF/s (" + " / ".join(f"v{v}" for v in BENCH_VARIANTS) + ") | FA2 varlen_attn TF/s | cuDNN padded TF/s (padded-FLOP rate) | ours/FA2 | ours/cuDNN | spread |",
         "|---|---|---|---|---|---|---|---|---|"]
    g = lambda d, k: d.get(k) if isinstance(d, dict) else None  # noqa: E731
    fmt = lambda x, p=1: ("%.*f" % (p, x)) if isinstance(x, (int, float)) else "n/a"  # noqa: E731
    for r in results["attention"]:
        L.append(f"| {r['shape']} | {fmt(r['floor_us'],0)} | {fmt(g(r['ours'],'median_us'),0)} | {fmt(g(r['ours'],'tflops'))} ({' / '.join(fmt(g(r.get(f'ours_v{v}', {}),'tflops')) for v in BENCH_VARIANTS)}) | "
                 f"{fmt(g(r['varlen_attn_fa2'],'tflops'))} | {fmt(g(r['cudnn_padded'],'tflops'))} ({fmt(g(r['cudnn_padded'],'tflops_padded'))}) | "
                 f"{fmt(r['speedup_vs_varlen_attn_fa2'],2)} | {fmt(r['speedup_vs_cudnn_padded'],2)} | {fmt(g(r['ours'],'spread'),3)} |")
    L += ["", "## Conversions (n = 2^28, bytes = 6 n)", "", "| op | ours GB/s | torch GB/s | ours/torch | ours/copy |", "|---|---|---|---|---|"]
    for r in results["convert"]:
        L.append(f"| {r['op']} | {r['ours_GBps']:.0f} | {r['torch_GBps']:.0f} | {r['speedup_vs_torch']:.2f} | {r['fraction_of_copy']:.2f} |")
    L += ["", "## index_reduce_ (2^20 x 128 source into 2^16 rows, include_self=True)", "",
          "| op | ours ms | torch ms | ours GB/s (floor bytes) | ours/torch | ours/copy |", "|---|---|---|---|---|---|"]
    for r in results["index_reduce"]:
        L.append(f"| {r['op']} | {r['ours']['median_us']/1e3:.3f} | {r['torch']['median_us']/1e3:.3f} | {r['ours_GBps']:.0f} | "
                 f"{r['speedup_vs_torch']:.2f} | {r['fraction_of_copy']:.2f} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default="bench.json")
    ap.add_argument("--md", default="bench.md")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    lib = sklib.Lib(a.lib)
    gen = torch.Generator(); gen.manual_seed(2026)
    results = {"date": time.strftime("%Y-%m-%d"), "device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "attention": [], "convert": [], "index_reduce": []}
    bench_copy(lib, results)
    if not a.only or "convert" in a.only:
        bench_convert(lib, results)
    if not a.only or "index" in a.only:
        bench_index_reduce(lib, results)
    if not a.only or "attn" in a.only:
        bench_attention(lib, gen, results, a.quick)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
    md = markdown(results)
    with open(a.md, "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
