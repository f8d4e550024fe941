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

PEAK_BF16_TFLOPS = 989.0   # H100/H200 SXM dense bf16 (datasheet); floors use it
COPY_GBS = 3000.0          # replaced by the measured copy bandwidth below
HBM_DATASHEET_GBS = {"H200": 4800.0, "H100": 3350.0}
# prefill variants timed (SK_ATTN_VARIANT) besides the default: BENCH_ATTN_VARIANTS=1,2,3,4,5
EXTRA_VARIANTS = [v for v in os.environ.get("BENCH_ATTN_VARIANTS", "").split(",") if v]
# decode configurations timed besides the default, "label:KEY=V,KEY=V;label2:...": KEY is an
# environment variable of the library (SK_DECODE_VARIANT, SK_DECODE_CHUNK) or NUM_SPLITS
# (forced num_splits: even shares per sequence)
EXTRA_DECODE = [(f"ours_{lbl}", dict(kv.split("=") for kv in spec.split(",") if kv))
                for lbl, spec in (x.split(":", 1) for x in os.environ.get("BENCH_DECODE_EXTRA", "").split(";") if x)]


def default_variant(D, max_q):
    """The library's default prefill variant on Hopper (attention.cu default_variant_sm90)."""
    return "5" if D == 128 else "4"


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


def attn_shapes(quick=False):
    """Every benchmark shape. decode: one query per sequence; page: page size of a paged
    KV cache (0 = contiguous K/V); used: seqused_k as a fraction range of the buffer."""
    S = []
    for D in (64, 128):
        for causal in (False, True):
            for B, nominal in ((16, 2048), (64, 512), (4, 8192)):
                S.append(dict(D=D, causal=causal, B=B, nominal=nominal, H=16, Hk=16))
    S += [dict(D=256, causal=False, B=16, nominal=2048, H=16, Hk=16),
          dict(D=256, causal=True, B=16, nominal=2048, H=16, Hk=16),
          dict(D=128, causal=True, B=128, nominal=256, H=32, Hk=8),        # short causal, GQA
          dict(D=128, causal=True, B=16, nominal=2048, H=32, Hk=8),        # GQA prefill
          dict(D=128, causal=True, B=16, nominal=2048, H=16, Hk=16, page=64)]  # prefill through a page table
    # decode (q = 1 per sequence); FA2 gets the same keys contiguous
    S += [dict(D=128, B=64, nominal=4096, H=32, Hk=8, decode=True, page=16),
          dict(D=128, B=64, nominal=4096, H=32, Hk=8, decode=True, page=64),
          dict(D=128, B=256, nominal=2048, H=32, Hk=8, decode=True, page=256),
          dict(D=128, B=64, nominal=4096, H=32, Hk=8, decode=True),
          dict(D=128, B=64, nominal=4096, H=32, Hk=8, decode=True, used=(0.5, 1.0)),
          dict(D=128, B=64, nominal=4096, H=32, Hk=8, decode=True, page=64, used=(0.5, 1.0)),
          dict(D=256, B=64, nominal=2048, H=32, Hk=8, decode=True, page=64),
          dict(D=128, B=64, nominal=4096, H=16, Hk=16, decode=True, page=256),
          dict(D=64, B=64, nominal=4096, H=16, Hk=16, decode=True, page=256)]
    for sh in S:
        sh.setdefault("decode", False); sh.setdefault("page", 0); sh.setdefault("used", None)
        sh.setdefault("causal", False)
    if quick:
        S = [S[6], S[12]] + [x for x in S if x["decode"]][:3]
    flt = os.environ.get("BENCH_ATTN_FILTER", "")  # e.g. "decode" or "d256|GQA"
    if flt:
        S = [x for x in S if any(f in shape_name(x) for f in flt.split("|"))]
    return S


def shape_name(sh):
    kind = "decode" if sh["decode"] else "prefill"
    parts = [kind, f"B={sh['B']} ~{sh['nominal']} d{sh['D']}", f"H{sh['H']}/{sh['Hk']}"]
    if not sh["decode"]:
        parts.append("causal" if sh["causal"] else "full")
    if sh["page"]:
        parts.append(f"page {sh['page']}")
    if sh["used"]:
        parts.append(f"seqused {int(sh['used'][0]*100)}-{int(sh['used'][1]*100)}%")
    return " ".join(parts)


def bench_attention(lib, gen, results, quick=False):
    dev = "cuda"
    dt = torch.bfloat16
    from torch.nn.attention.varlen import varlen_attn
    from torch.nn.attention import sdpa_kernel, SDPBackend
    for sh in attn_shapes(quick):
        D, causal, B, decode, H, Hk, ps = sh["D"], sh["causal"], sh["B"], sh["decode"], sh["H"], sh["Hk"], sh["page"]
        lk = seqlens(gen, B, sh["nominal"])           # buffer lengths
        if sh["used"]:
            lo, hi = sh["used"]
            fr = (torch.rand(B, generator=gen) * (hi - lo) + lo).tolist()
            used = [max(1, int(n * f)) for n, f in zip(lk, fr)]
        else:
            used = list(lk)
        lq = [1] * B if decode else lk
        cu_q = torch.tensor([0] + list(torch.tensor(lq).cumsum(0).tolist()), dtype=torch.int32, device=dev)
        cu_k = torch.tensor([0] + list(torch.tensor(lk).cumsum(0).tolist()), dtype=torch.int32, device=dev)
        used_t = torch.tensor(used, dtype=torch.int32, device=dev)
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
        p.seqused_k = used_t.data_ptr() if sh["used"] else None
        p.out = out.data_ptr(); p.lse = None
        name = shape_name(sh)
        kc = vc = None
        if ps:  # paged KV holding the same keys as k/v
            maxp = (max(lk) + ps - 1) // ps
            kc = torch.randn(B * maxp, ps, Hk, D, device=dev, dtype=dt)
            vc = torch.randn(B * maxp, ps, Hk, D, device=dev, dtype=dt)
            table = torch.randperm(B * maxp, device=dev).to(torch.int32).reshape(B, maxp).contiguous()
            for b in range(B):
                n = lk[b]; np_ = (n + ps - 1) // ps
                pg = table[b, :np_].long()
                kk = torch.zeros(np_ * ps, Hk, D, device=dev, dtype=dt); kk[:n] = k[int(cu_k[b]):int(cu_k[b]) + n]
                vv = torch.zeros(np_ * ps, Hk, D, device=dev, dtype=dt); vv[:n] = v[int(cu_k[b]):int(cu_k[b]) + n]
                kc[pg] = kk.view(np_, ps, Hk, D); vc[pg] = vv.view(np_, ps, Hk, D)
            p.k_cache = kc.data_ptr(); p.v_cache = vc.data_ptr(); p.page_table = table.data_ptr()
            p.num_pages = B * maxp; p.page_size = ps; p.max_pages_per_seq = maxp
            p.k = None; p.v = None
        else:
            p.k = k.data_ptr(); p.v = v.data_ptr()
        flops = sum(4.0 * a * b_ * D * H for a, b_ in zip(lq, used)) * (0.5 if causal and not decode else 1.0)
        # bytes that must move: q + out, and K/V of the used keys once per KV head
        bytes_ = (2 * tq * H * D + 2 * sum(used) * Hk * D) * 2
        t_floor_us = max(flops / (PEAK_BF16_TFLOPS * 1e12), bytes_ / (COPY_GBS * 1e9)) * 1e6
        stream = torch.cuda.current_stream().cuda_stream
        pref = C.byref(p)

        def ours(rep):
            return lib.lib.sk_varlen_attn_fwd(pref, C.c_void_p(stream))

        ws = (-1, 0) if causal and not decode else (-1, -1)
        if sh["used"]:
            def fa2(rep):  # FA2 with seqused_k on the same contiguous buffer
                torch.ops.aten._flash_attention_forward(q, k, v, cu_q, cu_k, max(lq), max(lk), 0.0, bool(causal and not decode),
                                                        False, scale=scale, seqused_k=used_t)
        else:
            def fa2(rep):
                varlen_attn(q, k, v, cu_q, cu_k, max(lq), max(lk), scale=scale, window_size=ws)
        refs = [("varlen_attn_fa2", fa2)]
        qp = kp = vp = None
        if not decode:  # cuDNN on the padded batch [B, H, Lmax, D]
            Lq_max, Lk_max = max(lq), max(lk)
            qp = torch.zeros(B, Lq_max, H, D, device=dev, dtype=dt)
            kp = torch.zeros(B, Lk_max, Hk, D, device=dev, dtype=dt)
            vp = torch.zeros(B, Lk_max, Hk, D, device=dev, dtype=dt)
            for b in range(B):
                qp[b, :lq[b]] = q[int(cu_q[b]):int(cu_q[b + 1])]
                kp[b, :lk[b]] = k[int(cu_k[b]):int(cu_k[b + 1])]
                vp[b, :lk[b]] = v[int(cu_k[b]):int(cu_k[b + 1])]
            qp, kp, vp = (x.transpose(1, 2) for x in (qp, kp, vp))

            def cudnn(rep):
                with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                    F.scaled_dot_product_attention(qp, kp, vp, is_causal=causal, scale=scale, enable_gqa=Hk != H)
            refs.append(("cudnn_padded", cudnn))
        row = {"shape": name, **{k_: sh[k_] for k_ in ("D", "causal", "B", "nominal", "decode", "H", "Hk", "page", "used")},
               "flops": flops, "bytes": bytes_, "floor_us": t_floor_us}
        if not decode:
            row["padded_flops"] = 4.0 * B * max(lq) * max(lk) * D * H * (0.5 if causal else 1.0)
            default = default_variant(D, max(lq))
            variants = [("ours", {"SK_ATTN_VARIANT": default})] + [(f"ours_v{x}", {"SK_ATTN_VARIANT": x}) for x in EXTRA_VARIANTS if x != default]
        else:
            packable = H != Hk and 16 % (H // Hk) == 0
            variants = [("ours", {})]
            if packable:
                variants += [("ours_decode_v0_unpacked", {"SK_DECODE_VARIANT": "0"}), ("ours_decode_v11_3stage", {"SK_DECODE_VARIANT": "11"})]
            variants += EXTRA_DECODE
        for label, fn, env in [(lbl, ours, e) for lbl, e in variants] + [(lbl, f, {}) for lbl, f in refs]:
            try:
                os.environ.update({k_: v_ for k_, v_ in env.items() if k_ != "NUM_SPLITS"})
                p.num_splits = int(env.get("NUM_SPLITS", 0))
                s = time_fn(lib, fn)
                p.num_splits = 0
                for e in env:
                    os.environ.pop(e, None)
                s["tflops"] = flops / (s["median_us"] * 1e-6) / 1e12
                s["GBps"] = bytes_ / (s["median_us"] * 1e-6) / 1e9
                if label == "cudnn_padded":
                    s["tflops_padded"] = row["padded_flops"] / (s["median_us"] * 1e-6) / 1e12
                if env:
                    s["env"] = dict(env)
                row[label] = s
            except Exception as e:  # noqa: BLE001
                p.num_splits = 0
                for e_ in env:
                    os.environ.pop(e_, None)
                row[label] = {"error": f"{type(e).__name__}: {str(e)[:200]}"}
                torch.cuda.synchronize()
        o = row["ours"].get("median_us")
        for ref in ("varlen_attn_fa2", "cudnn_padded"):
            r = row.get(ref, {}).get("median_us")
            row[f"speedup_vs_{ref}"] = (r / o) if (o and r) else None
        if o:
            row["ours_frac_of_copy"] = row["ours"]["GBps"] / COPY_GBS
        results["attention"].append(row)
        if os.environ.get("BENCH_OUT"):
            with open(os.environ["BENCH_OUT"], "w") as fo:
                json.dump(results, fo, indent=1)
        f = lambda x: f"{x:7.1f}" if isinstance(x, (int, float)) and x is not None else "    n/a"  # noqa: E731
        extra = "  ".join(f"{lbl} {row[lbl].get('median_us', float('nan')):.0f}us" for lbl, _ in variants[1:])
        if decode:
            print(f"{name:<58} ours {o or float('nan'):7.0f}us {row['ours'].get('GBps', float('nan')):6.0f} GB/s "
                  f"({row.get('ours_frac_of_copy') or float('nan'):.2f} of copy)  fa2 {row['varlen_attn_fa2'].get('median_us', float('nan')):7.0f}us "
                  f"x_fa2 {row['speedup_vs_varlen_attn_fa2'] or float('nan'):.2f}  {extra}", flush=True)
        else:
            print(f"{name:<58} ours {f(row['ours'].get('tflops'))} TF/s  fa2 {f(row['varlen_attn_fa2'].get('tflops'))}  "
                  f"cudnn {f(row['cudnn_padded'].get('tflops'))} (padded {f(row['cudnn_padded'].get('tflops_padded'))})  "
                  f"x_fa2 {row['speedup_vs_varlen_attn_fa2'] or float('nan'):.2f} x_cudnn {row['speedup_vs_cudnn_padded'] or float('nan'):.2f}"
                  f"  floor {t_floor_us:.0f}us ours {o or float('nan'):.0f}us {extra}", flush=True)
        del q, k, v, out, qp, kp, vp, kc, vc
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


def bench_convert_unaligned(lib, results):
    """Sources (and optionally destinations) starting 1..3 elements past an aligned address.
    torch reference: x[off:].to(dtype) (fresh aligned output), or out[off:].copy_(x[off:])
    when both start unaligned."""
    n = (1 << 28) - 8
    stream = torch.cuda.current_stream().cuda_stream
    base = torch.randn(n + 16, device="cuda") * 100
    cases = []
    for dst, code in ((torch.bfloat16, sklib.SK_BF16), (torch.float16, sklib.SK_F16)):
        for off in (1, 2, 3):
            cases.append(("narrow", dst, code, off, 0))
        cases.append(("narrow", dst, code, 1, 1))
        cases.append(("narrow", dst, code, 3, 3))
    cases.append(("widen", torch.bfloat16, sklib.SK_BF16, 1, 0))
    cases.append(("widen", torch.bfloat16, sklib.SK_BF16, 3, 0))
    cases.append(("widen", torch.float16, sklib.SK_F16, 1, 0))
    for kind, dt, code, soff, doff in cases:
        bytes_ = n * 6
        if kind == "narrow":
            x = base[soff:soff + n]
            obuf = torch.empty(n + 16, device="cuda", dtype=dt)
            o = obuf[doff:doff + n]
            so = time_fn(lib, lambda rep: lib.lib.sk_convert(sklib.SK_F32, C.c_void_p(x.data_ptr()), code,
                                                              C.c_void_p(o.data_ptr()), n, C.c_void_p(stream)), flush=0)
            st = time_fn(lib, (lambda rep: x.to(dt)) if doff == 0 else (lambda rep: o.copy_(x)), flush=0)
            op = f"f32->{str(dt)[6:]} src+{soff}" + (f" dst+{doff}" if doff else "")
        else:
            hb = base[:n + 16].to(dt)
            x = hb[soff:soff + n]
            o = torch.empty(n, device="cuda")
            so = time_fn(lib, lambda rep: lib.lib.sk_convert(code, C.c_void_p(x.data_ptr()), sklib.SK_F32,
                                                              C.c_void_p(o.data_ptr()), n, C.c_void_p(stream)), flush=0)
            st = time_fn(lib, lambda rep: x.float(), flush=0)
            op = f"{str(dt)[6:]}->f32 src+{soff}"
        row = {"op": op, "n": n, "bytes": bytes_, "src_offset": soff, "dst_offset": doff, "ours": so, "torch": st,
               "ours_GBps": bytes_ / so["median_us"] / 1e3, "torch_GBps": bytes_ / st["median_us"] / 1e3}
        row["speedup_vs_torch"] = st["median_us"] / so["median_us"]
        row["fraction_of_copy"] = row["ours_GBps"] / COPY_GBS
        results["convert"].append(row)
        print(f"convert {row['op']:<24} ours {row['ours_GBps']:6.0f} GB/s torch {row['torch_GBps']:6.0f} GB/s "
              f"x_torch {row['speedup_vs_torch']:.2f} copy-frac {row['fraction_of_copy']:.2f}", flush=True)
        del x, o
    del base
    torch.cuda.empty_cache()


def bench_index_reduce(lib, results):
    """Patterns: uniform (2^20 x 128 into 2^16 rows), sorted (the same indices sorted), hot
    (2^18 x 128 into 8 rows)."""
    stream = torch.cuda.current_stream().cuda_stream
    cols = 128
    for pattern, rows, n in (("uniform", 1 << 16, 1 << 20), ("sorted", 1 << 16, 1 << 20), ("hot8", 8, 1 << 18)):
        for dtype, code in ((torch.float32, sklib.SK_F32), (torch.bfloat16, sklib.SK_BF16)):
            src = (torch.rand(n, cols, device="cuda") * 0.6 + 0.7).to(dtype)
            idx = torch.randint(0, rows, (n,), device="cuda")
            if pattern == "sorted":
                idx = idx.sort().values
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
                row = {"op": f"{pattern} {str(dtype)[6:]} {reduce}", "pattern": pattern, "rows": rows, "n": n, "cols": cols,
                       "bytes": bytes_, "ours": so, "torch": st, "ours_GBps": bytes_ / so["median_us"] / 1e3,
                       "torch_GBps": bytes_ / st["median_us"] / 1e3, "speedup_vs_torch": st["median_us"] / so["median_us"]}
                row["fraction_of_copy"] = row["ours_GBps"] / COPY_GBS
                results["index_reduce"].append(row)
                print(f"index_reduce {row['op']:<22} ours {so['median_us']/1e3:6.3f} ms ({row['ours_GBps']:5.0f} GB/s) "
                      f"torch {st['median_us']/1e3:6.3f} ms x_torch {row['speedup_vs_torch']:.2f} copy-frac {row['fraction_of_copy']:.2f}",
                      flush=True)
            del src, idx, base
            torch.cuda.empty_cache()


def markdown(results):
    g = lambda d, k: d.get(k) if isinstance(d, dict) else None  # noqa: E731
    fmt = lambda x, p=1: ("%.*f" % (p, x)) if isinstance(x, (int, float)) else "n/a"  # noqa: E731
    L = [f"# Kernel benchmark {results['date']} on {results['device']} (torch {results['torch']})", "",
         f"Machine: {results.get('machine', 'n/a')}. Commit: {results.get('commit', 'n/a')}. "
         f"Device copy bandwidth (1 GiB copy_, read+write), same run: {results['copy']['GBps']:.0f} GB/s. "
         f"Timing: sheriff timing library, median of 20 reps (15 for index_reduce), L2 flushed (256 MiB memset) "
         f"before every attention rep; spread = (p90-p10)/median. Every ratio is against a reference timed in this run.", "",
         "## Varlen attention prefill, bf16 (TFLOP/s on useful FLOPs; causal FLOPs halved)", "",
         "| shape | floor us | ours us | ours TF/s | FA2 varlen_attn TF/s | cuDNN padded TF/s (padded-FLOP rate) | ours/FA2 | ours/cuDNN | spread |",
         "|---|---|---|---|---|---|---|---|---|"]
    for r in results["attention"]:
        if r["decode"]:
            continue
        L.append(f"| {r['shape']} | {fmt(r['floor_us'],0)} | {fmt(g(r['ours'],'median_us'),0)} | {fmt(g(r['ours'],'tflops'))} | "
                 f"{fmt(g(r['varlen_attn_fa2'],'tflops'))} | {fmt(g(r.get('cudnn_padded'),'tflops'))} ({fmt(g(r.get('cudnn_padded'),'tflops_padded'))}) | "
                 f"{fmt(r['speedup_vs_varlen_attn_fa2'],2)} | {fmt(r.get('speedup_vs_cudnn_padded'),2)} | {fmt(g(r['ours'],'spread'),3)} |")
    L += ["", "## Decode (one query per sequence), bf16; FA2 gets the same keys contiguous (seqused_k rows: FA2 with seqused_k)", "",
          "Bytes = q + out + K/V of the used keys once per KV head (what must be read); GB/s on those bytes.", "",
          "| shape | ours us | ours GB/s | of copy BW | FA2 us | FA2 GB/s | ours/FA2 | unpacked (v0) us | 3-stage (v11) us | "
          + " | ".join(f"{lbl[5:]} us" for lbl, _ in EXTRA_DECODE) + " |",
          "|---|---|---|---|---|---|---|---|---|" + "---|" * len(EXTRA_DECODE)]
    for r in results["attention"]:
        if not r["decode"]:
            continue
        L.append(f"| {r['shape']} | {fmt(g(r['ours'],'median_us'),0)} | {fmt(g(r['ours'],'GBps'),0)} | {fmt(r.get('ours_frac_of_copy'),2)} | "
                 f"{fmt(g(r['varlen_attn_fa2'],'median_us'),0)} | {fmt(g(r['varlen_attn_fa2'],'GBps'),0)} | {fmt(r['speedup_vs_varlen_attn_fa2'],2)} | "
                 f"{fmt(g(r.get('ours_decode_v0_unpacked'),'median_us'),0)} | {fmt(g(r.get('ours_decode_v11_3stage'),'median_us'),0)} |"
                 + "".join(f" {fmt(g(r.get(lbl),'median_us'),0)} |" for lbl, _ in EXTRA_DECODE))
    L += ["", "## Conversions (n = 2^28 or 2^28-8, bytes = 6 n)", "", "| op | ours GB/s | torch GB/s | ours/torch | ours/copy |", "|---|---|---|---|---|"]
    for r in results["convert"]:
        L.append(f"| {r['op']} | {r['ours_GBps']:.0f} | {r['torch_GBps']:.0f} | {r['speedup_vs_torch']:.2f} | {r['fraction_of_copy']:.2f} |")
    L += ["", "## index_reduce_ (include_self=True; uniform/sorted: 2^20 x 128 into 2^16 rows; hot8: 2^18 x 128 into 8 rows)", "",
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
    import platform
    import subprocess
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001
        smi = "n/a"
    results = {"date": time.strftime("%Y-%m-%d"), "device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "machine": f"{platform.node()} ({platform.machine()}), nvidia-smi: {smi}",
               "commit": os.environ.get("SK_COMMIT", "n/a"),
               "attention": [], "convert": [], "index_reduce": []}
    bench_copy(lib, results)
    if not a.only or "convert" in a.only:
        bench_convert(lib, results)
        bench_convert_unaligned(lib, results)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    if not a.only or "index" in a.only:
        bench_index_reduce(lib, results)
    def dump():
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    dump()
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
