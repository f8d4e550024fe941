#!/usr/bin/env python3
"""Device checker: every kernel of libsheriff_kernels.so against its CPU
reference (through the C ABI) and against PyTorch on the same GPU, on fresh
random inputs, many shapes, outputs poisoned (NaN) before every run.
Prints a table and writes JSON (--json)."""
import argparse
import json
import math
import sys
import time
import ctypes as C

import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
import sklib  # noqa: E402

DT = {torch.float32: sklib.SK_F32, torch.float16: sklib.SK_F16, torch.bfloat16: sklib.SK_BF16}
DTN = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}
RESULTS = []


def record(kernel, case, ok, **metrics):
    RESULTS.append({"kernel": kernel, "case": case, "ok": bool(ok), **metrics})
    flag = "PASS" if ok else "FAIL"
    ms = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
    print(f"{flag} {kernel:<13} {case:<58} {ms}", flush=True)


def ptr(t):
    return C.c_void_p(t.data_ptr()) if t is not None else None


def rel_err(a, b):
    a = a.double(); b = b.double()
    den = b.norm().item()
    num = (a - b).norm().item()
    return num / den if den > 0 else num


# ============================================================ attention
def truth_attention(q, k, v, cu_q, lens_k, causal, wl, wr, scale, kv_rows_fn):
    """float64 per-sequence reference; returns out [total_q,H,D] f64, lse [H,total_q]."""
    total_q, H, D = q.shape
    out = torch.zeros(total_q, H, D, dtype=torch.float64, device=q.device)
    lse = torch.full((H, total_q), math.inf, dtype=torch.float64, device=q.device)
    for b in range(len(lens_k)):
        q0, q1 = cu_q[b], cu_q[b + 1]
        Lq, Lk = q1 - q0, lens_k[b]
        if Lq == 0:
            continue
        if Lk == 0:
            continue
        kb, vb = kv_rows_fn(b)  # [Lk, Hk, D]
        G = H // kb.shape[1]
        kb = kb.double().repeat_interleave(G, dim=1).transpose(0, 1)  # H,Lk,D
        vb = vb.double().repeat_interleave(G, dim=1).transpose(0, 1)
        qb = q[q0:q1].double().transpose(0, 1)  # H,Lq,D
        s = torch.matmul(qb, kb.transpose(1, 2)) * scale
        i = torch.arange(Lq, device=q.device)[:, None]
        j = torch.arange(Lk, device=q.device)[None, :]
        off = Lk - Lq
        valid = torch.ones(Lq, Lk, dtype=torch.bool, device=q.device)
        r = 0 if causal else wr
        if r is not None and r >= 0:
            valid &= j <= i + off + r
        if wl is not None and wl >= 0:
            valid &= j >= i + off - wl
        s = s.masked_fill(~valid, -math.inf)
        m = s.amax(-1, keepdim=True)
        has = torch.isfinite(m)
        p = torch.where(has, torch.exp(s - torch.where(has, m, torch.zeros_like(m))), torch.zeros_like(s))
        l = p.sum(-1, keepdim=True)
        o = torch.matmul(p, vb) / torch.where(l > 0, l, torch.ones_like(l))
        out[q0:q1] = o.transpose(0, 1)
        lse[:, q0:q1] = torch.where(l[..., 0] > 0, (m[..., 0] + torch.log(l[..., 0])), torch.full_like(l[..., 0], math.inf))
    return out, lse


def attn_case(lib, name, B, H, Hk, D, dtype, lq, lk, causal=False, wl=-1, wr=-1, used=None, page_size=0,
              variant="buffer", want_lse=True, splits=0, cpu_ref=None, gen=None, env=None):
    if env:
        import os
        os.environ.update(env)
        try:
            return attn_case(lib, name, B, H, Hk, D, dtype, lq, lk, causal, wl, wr, used, page_size, variant, want_lse,
                             splits, cpu_ref, gen)
        finally:
            for k_ in env:
                os.environ.pop(k_, None)
    dev = "cuda"
    cu_q = [0]
    cu_k = [0]
    for b in range(B):
        cu_q.append(cu_q[-1] + lq[b])
        cu_k.append(cu_k[-1] + lk[b])
    total_q, total_k = cu_q[-1], cu_k[-1]
    q = torch.randn(total_q, H, D, device=dev, dtype=torch.float32, generator=gen).to(dtype)
    k = torch.randn(max(total_k, 1), Hk, D, device=dev, dtype=torch.float32, generator=gen).to(dtype)
    v = torch.randn(max(total_k, 1), Hk, D, device=dev, dtype=torch.float32, generator=gen).to(dtype)
    lens_k = list(used) if used is not None else list(lk)
    # poison keys beyond seqused_k: they must never be read
    if used is not None:
        for b in range(B):
            k[cu_k[b] + used[b]:cu_k[b + 1]] = float("nan")
            v[cu_k[b] + used[b]:cu_k[b + 1]] = float("nan")
    cu_q_t = torch.tensor(cu_q, dtype=torch.int32, device=dev)
    cu_k_t = torch.tensor(cu_k, dtype=torch.int32, device=dev)
    used_t = torch.tensor(used, dtype=torch.int32, device=dev) if used is not None else None
    scale = 1.0 / math.sqrt(D)
    p = sklib.AttnParams()
    p.dtype = DT[dtype]; p.batch = B; p.num_heads = H; p.num_heads_kv = Hk; p.head_dim = D
    p.total_q = total_q; p.total_k = total_k
    p.max_seqlen_q = max(lq) if B else 0
    p.max_seqlen_k = max(lk) if B else 0
    p.softmax_scale = scale; p.causal = int(causal); p.window_left = wl; p.window_right = wr
    p.q = q.data_ptr(); p.cu_seqlens_q = cu_q_t.data_ptr(); p.cu_seqlens_k = cu_k_t.data_ptr()
    p.seqused_k = used_t.data_ptr() if used_t is not None else None
    p.num_splits = splits
    kc = vc = table = None
    if page_size:
        maxp = max(1, max((x + page_size - 1) // page_size for x in lk))
        num_pages = B * maxp + 5
        perm = torch.randperm(num_pages, device=dev, generator=gen)
        table = perm[:B * maxp].reshape(B, maxp).to(torch.int32).contiguous()
        kc = torch.full((num_pages, page_size, Hk, D), float("nan"), device=dev, dtype=dtype)
        vc = torch.full((num_pages, page_size, Hk, D), float("nan"), device=dev, dtype=dtype)
        for b in range(B):
            n = lens_k[b]
            for j0 in range(0, n, page_size):
                pg = table[b, j0 // page_size].item()
                cnt = min(page_size, n - j0)
                kc[pg, :cnt] = k[cu_k[b] + j0:cu_k[b] + j0 + cnt]
                vc[pg, :cnt] = v[cu_k[b] + j0:cu_k[b] + j0 + cnt]
        p.k_cache = kc.data_ptr(); p.v_cache = vc.data_ptr(); p.page_table = table.data_ptr()
        p.num_pages = num_pages; p.page_size = page_size; p.max_pages_per_seq = maxp
        p.k = None; p.v = None
    else:
        p.k = k.data_ptr(); p.v = v.data_ptr()
    stream = torch.cuda.current_stream().cuda_stream
    out = torch.full((total_q, H, D), float("nan"), device=dev, dtype=dtype)
    lse = torch.full((H, total_q), float("nan"), device=dev, dtype=torch.float32)
    if variant == "alloc":
        op, lp = C.c_void_p(), C.c_void_p()
        st = lib.lib.sk_varlen_attn_fwd_alloc(C.byref(p), int(want_lse), C.byref(op), C.byref(lp) if want_lse else None,
                                              C.c_void_p(stream))
        lib.check(st, "sk_varlen_attn_fwd_alloc")
        torch.cuda.synchronize()
        nbytes = total_q * H * D * 2
        if nbytes:
            C.cdll.LoadLibrary  # noqa
            torch.cuda.synchronize()
            cudart = lib.lib
            tmp = torch.empty(total_q, H, D, dtype=dtype)
            cudart.sk_memcpy_d2h(C.c_void_p(tmp.data_ptr()), op, C.c_size_t(nbytes))
            out = tmp.to(dev)
            if want_lse:
                tl = torch.empty(H, total_q, dtype=torch.float32)
                cudart.sk_memcpy_d2h(C.c_void_p(tl.data_ptr()), lp, C.c_size_t(H * total_q * 4))
                lse = tl.to(dev)
        lib.lib.sk_free(op)
        if want_lse:
            lib.lib.sk_free(lp)
    else:
        p.out = out.data_ptr()
        p.lse = lse.data_ptr() if want_lse else None
        st = lib.lib.sk_varlen_attn_fwd(C.byref(p), C.c_void_p(stream))
        lib.check(st, "sk_varlen_attn_fwd")
    torch.cuda.synchronize()
    kv_rows = lambda b: (k[cu_k[b]:cu_k[b] + lens_k[b]], v[cu_k[b]:cu_k[b] + lens_k[b]])  # noqa: E731
    t_out, t_lse = truth_attention(q, k, v, cu_q, lens_k, causal, wl, wr, scale, kv_rows)
    nan_out = int(torch.isnan(out).sum().item())
    err = rel_err(out.nan_to_num(0.0), t_out) if total_q else 0.0
    metrics = {"err_vs_f64": err, "unwritten": nan_out}
    ok = nan_out == 0 and err < 1e-2
    if want_lse and total_q:
        fin = torch.isfinite(t_lse)
        lse_ok = bool((torch.isinf(lse[~fin]) & (lse[~fin] > 0)).all().item()) if (~fin).any() else True
        lse_err = (lse[fin].double() - t_lse[fin]).abs().max().item() if fin.any() else 0.0
        metrics["lse_maxabs"] = lse_err
        ok = ok and lse_ok and lse_err < 2e-3
        if not lse_ok:
            metrics["lse_empty_rows"] = "bad"
    # PyTorch on the same machine
    try:
        tout = None
        if total_q and B:
            kk, vv, cuk2 = k, v, cu_k_t
            if used is None and not page_size:
                from torch.nn.attention.varlen import varlen_attn
                ws = (wl if wl is not None else -1, 0 if causal else wr)
                tout = varlen_attn(q, k[:max(total_k, 1)], v[:max(total_k, 1)], cu_q_t, cu_k_t, p.max_seqlen_q,
                                   p.max_seqlen_k, scale=scale, window_size=ws)
                metrics["torch"] = "varlen_attn"
            else:
                r = torch.ops.aten._flash_attention_forward(
                    q, kk, vv, cu_q_t, cuk2, p.max_seqlen_q, p.max_seqlen_k, 0.0, bool(causal), False, scale=scale,
                    window_size_left=wl if wl >= 0 else None, window_size_right=(wr if wr >= 0 else None) if not causal else 0,
                    seqused_k=used_t)
                tout = r[0]
                metrics["torch"] = "_flash_attention_forward"
            if isinstance(tout, tuple):
                tout = tout[0]
            terr = rel_err(tout.nan_to_num(0.0), t_out)
            metrics["torch_err_vs_f64"] = terr
            metrics["diff_vs_torch"] = rel_err(out.nan_to_num(0.0), tout.nan_to_num(0.0))
            ok = ok and err <= 2.0 * terr + 2e-3
    except Exception as e:  # noqa: BLE001
        metrics["torch"] = f"n/a ({type(e).__name__}: {str(e)[:80]})"
    # CPU reference through the ABI (small cases)
    work = sum(lq[b] * lens_k[b] for b in range(B)) * H * D
    if cpu_ref and work <= 3e7:
        hp = sklib.AttnParams.from_buffer_copy(p)
        hq = q.cpu(); hk = (kc if page_size else k).cpu(); hv = (vc if page_size else v).cpu()
        hcq = cu_q_t.cpu(); hck = cu_k_t.cpu(); hu = used_t.cpu() if used_t is not None else None
        ho = torch.full((total_q, H, D), float("nan"), dtype=dtype)
        hl = torch.full((H, total_q), float("nan"), dtype=torch.float32)
        hp.q = hq.data_ptr(); hp.cu_seqlens_q = hcq.data_ptr(); hp.cu_seqlens_k = hck.data_ptr()
        hp.seqused_k = hu.data_ptr() if hu is not None else None
        if page_size:
            ht = table.cpu()
            hp.k_cache = hk.data_ptr(); hp.v_cache = hv.data_ptr(); hp.page_table = ht.data_ptr()
        else:
            hp.k = hk.data_ptr(); hp.v = hv.data_ptr()
        hp.out = ho.data_ptr(); hp.lse = hl.data_ptr()
        lib.check(lib.lib.sk_varlen_attn_ref(C.byref(hp)), "sk_varlen_attn_ref")
        cerr = rel_err(out.cpu().nan_to_num(0.0), ho.nan_to_num(0.0)) if total_q else 0.0
        metrics["diff_vs_cpu_ref"] = cerr
        ok = ok and cerr < 1e-2
    record("varlen_attn", name, ok, **metrics)


def seqlens(gen_cpu, B, nominal):
    if nominal <= 1:
        return [nominal] * B
    lo, hi = max(1, nominal // 2), nominal + nominal // 2
    return torch.randint(lo, hi + 1, (B,), generator=gen_cpu).tolist()


def check_attention(lib, quick=False):
    g = torch.Generator(device="cuda"); g.manual_seed(int(time.time()))
    gc = torch.Generator(); gc.manual_seed(int(time.time()) + 1)
    cases = []
    for dtype in (torch.bfloat16, torch.float16):
        for D in (64, 128, 256):
            dn = DTN[dtype]
            B = 3
            lq = seqlens(gc, B, 150)
            cases.append((f"{dn} d{D} basic H8", dict(B=B, H=8, Hk=8, D=D, dtype=dtype, lq=lq, lk=lq, cpu_ref=True)))
            cases.append((f"{dn} d{D} causal GQA 8/2", dict(B=B, H=8, Hk=2, D=D, dtype=dtype, lq=lq, lk=lq, causal=True, cpu_ref=True)))
            lk = seqlens(gc, B, 300)
            cases.append((f"{dn} d{D} causal Lq<Lk MQA", dict(B=B, H=4, Hk=1, D=D, dtype=dtype, lq=lq, lk=lk, causal=True, cpu_ref=True)))
    bf = torch.bfloat16
    more = [
        ("bf16 d128 causal Lq>Lk (empty rows)", dict(B=2, H=4, Hk=4, D=128, dtype=bf, lq=[200, 70], lk=[50, 64], causal=True, cpu_ref=True)),
        ("bf16 d64 window(32,16)", dict(B=3, H=4, Hk=2, D=64, dtype=bf, lq=[300, 129, 17], lk=[300, 200, 17], wl=32, wr=16, cpu_ref=True)),
        ("f16 d128 causal+window left 100", dict(B=2, H=4, Hk=4, D=128, dtype=torch.float16, lq=[400, 257], lk=[400, 300], causal=True, wl=100, cpu_ref=True)),
        ("bf16 d128 seqused_k (NaN tail)", dict(B=3, H=8, Hk=2, D=128, dtype=bf, lq=[100, 64, 5], lk=[300, 200, 80], used=[250, 0, 33], causal=True, cpu_ref=True)),
        ("f16 d64 seqused_k non-causal", dict(B=2, H=4, Hk=4, D=64, dtype=torch.float16, lq=[64, 90], lk=[128, 100], used=[77, 100], cpu_ref=True)),
        ("bf16 d128 paged 16", dict(B=3, H=8, Hk=2, D=128, dtype=bf, lq=[37, 1, 80], lk=[300, 45, 200], causal=True, page_size=16, cpu_ref=True)),
        ("bf16 d64 paged 256 + seqused", dict(B=2, H=4, Hk=4, D=64, dtype=bf, lq=[20, 33], lk=[700, 400], used=[650, 12], page_size=256, cpu_ref=True)),
        ("f16 d256 paged 64 causal", dict(B=2, H=4, Hk=2, D=256, dtype=torch.float16, lq=[50, 7], lk=[130, 70], causal=True, page_size=64, cpu_ref=True)),
        ("bf16 d128 decode paged 256 (auto split)", dict(B=16, H=16, Hk=16, D=128, dtype=bf, lq=[1] * 16, lk=seqlens(gc, 16, 4096), page_size=256, causal=True)),
        ("bf16 d64 decode GQA 16/4", dict(B=8, H=16, Hk=4, D=64, dtype=bf, lq=[1] * 8, lk=seqlens(gc, 8, 1000), cpu_ref=True)),
        ("f16 d256 decode Lq=4 seqused", dict(B=4, H=4, Hk=4, D=256, dtype=torch.float16, lq=[4] * 4, lk=[600, 300, 5, 50], used=[599, 0, 5, 20], causal=True, cpu_ref=True)),
        ("bf16 d128 forced splits=5", dict(B=2, H=4, Hk=4, D=128, dtype=bf, lq=[300, 200], lk=[900, 500], causal=True, splits=5, cpu_ref=True)),
        ("bf16 d64 empty sequences", dict(B=4, H=4, Hk=4, D=64, dtype=bf, lq=[0, 40, 0, 3], lk=[10, 0, 0, 30], cpu_ref=True)),
        ("bf16 d64 zero batch", dict(B=0, H=4, Hk=4, D=64, dtype=bf, lq=[], lk=[])),
        ("bf16 d128 alloc variant + lse", dict(B=2, H=4, Hk=4, D=128, dtype=bf, lq=[100, 50], lk=[100, 80], causal=True, variant="alloc", cpu_ref=True)),
        ("bf16 d128 alloc variant no lse", dict(B=2, H=4, Hk=4, D=128, dtype=bf, lq=[100, 50], lk=[100, 80], variant="alloc", want_lse=False)),
        ("bf16 d128 buffer no lse", dict(B=2, H=4, Hk=4, D=128, dtype=bf, lq=[100, 50], lk=[100, 80], want_lse=False)),
        ("bf16 d128 6x~2048 causal H16", dict(B=6, H=16, Hk=16, D=128, dtype=bf, lq=None, lk=None, causal=True)),
        ("f16 d64 8x~1024 H16 window(256,-1)", dict(B=8, H=16, Hk=16, D=64, dtype=torch.float16, lq=None, lk=None, wl=256)),
        # GQA-packed decode (variant 10: 16 rows = (position, head of the group)), pages 16/64/256, seqused_k
        ("bf16 d128 decode GQA 32/8 paged 16", dict(B=8, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 8, lk=seqlens(gc, 8, 600), page_size=16, cpu_ref=True)),
        ("bf16 d128 decode GQA 32/8 paged 64 seqused (NaN tail)", dict(B=6, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 6, lk=[900, 700, 64, 300, 1000, 129], used=[850, 1, 64, 0, 999, 100], page_size=64, cpu_ref=True)),
        ("bf16 d128 decode GQA 32/8 paged 256 seqused", dict(B=4, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 4, lk=[1500, 700, 2000, 256], used=[1400, 700, 1333, 17], page_size=256, cpu_ref=True)),
        ("bf16 d128 decode GQA 32/8 paged 16 3-stage (v11)", dict(B=8, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 8, lk=seqlens(gc, 8, 600), page_size=16, cpu_ref=True, env={"SK_DECODE_VARIANT": "11"})),
        ("bf16 d128 decode GQA 32/8 unpacked (v0)", dict(B=8, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 8, lk=seqlens(gc, 8, 600), page_size=64, cpu_ref=True, env={"SK_DECODE_VARIANT": "0"})),
        ("bf16 d128 decode GQA 32/8 contiguous long keys (auto split)", dict(B=3, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 3, lk=[20000, 9000, 130])),
        ("bf16 d128 decode GQA 32/8 Lq=2 causal splits=7", dict(B=3, H=32, Hk=8, D=128, dtype=bf, lq=[2, 2, 1], lk=[700, 300, 90], causal=True, splits=7, cpu_ref=True)),
        ("f16 d64 decode GQA 16/2 Lq=3 causal paged 16", dict(B=4, H=16, Hk=2, D=64, dtype=torch.float16, lq=[3, 3, 1, 2], lk=[400, 3, 50, 130], causal=True, page_size=16, cpu_ref=True)),
        ("bf16 d128 decode MQA 16/1", dict(B=5, H=16, Hk=1, D=128, dtype=bf, lq=[1] * 5, lk=seqlens(gc, 5, 800), cpu_ref=True)),
        ("bf16 d256 decode GQA 8/2 paged 64", dict(B=4, H=8, Hk=2, D=256, dtype=bf, lq=[1] * 4, lk=seqlens(gc, 4, 700), page_size=64, cpu_ref=True)),
        ("bf16 d256 decode GQA 32/8 Lq=4 seqused", dict(B=3, H=32, Hk=8, D=256, dtype=bf, lq=[4, 4, 4], lk=[600, 300, 40], used=[500, 300, 4], causal=True, cpu_ref=True)),
        ("bf16 d128 decode GQA 12/4 (G=3, not packed)", dict(B=4, H=12, Hk=4, D=128, dtype=bf, lq=[1] * 4, lk=seqlens(gc, 4, 500), page_size=16, cpu_ref=True)),
        ("bf16 d128 prefill GQA 32/8 causal paged 64", dict(B=3, H=32, Hk=8, D=128, dtype=bf, lq=[100, 257, 31], lk=[300, 257, 500], causal=True, page_size=64, cpu_ref=True)),
        ("bf16 d256 prefill GQA 16/4 causal 2x~700", dict(B=2, H=16, Hk=4, D=256, dtype=bf, lq=[700, 650], lk=[700, 650], causal=True)),
        # d256 prefill on wgmma (variant 4 on Hopper): paged 16, Lq < Lk, windows; the mma.sync kernel (1) kept checked
        ("bf16 d256 prefill GQA 8/2 causal paged 16 Lq<Lk", dict(B=3, H=8, Hk=2, D=256, dtype=bf, lq=[100, 300, 17], lk=[400, 300, 90], causal=True, page_size=16, cpu_ref=True)),
        ("f16 d256 prefill window(100,20) seqused", dict(B=2, H=4, Hk=4, D=256, dtype=torch.float16, lq=[260, 64], lk=[300, 200], used=[290, 130], wl=100, wr=20, cpu_ref=True)),
        ("bf16 d256 4x~1024 H8 full", dict(B=4, H=8, Hk=8, D=256, dtype=bf, lq=None, lk=None)),
        ("bf16 d256 prefill causal mma.sync (v1)", dict(B=3, H=8, Hk=2, D=256, dtype=bf, lq=[100, 300, 17], lk=[400, 300, 90], causal=True, cpu_ref=True, env={"SK_ATTN_VARIANT": "1"})),
        # decode splits as chunks of equal key length (ragged lengths, empty and one-key sequences)
        ("bf16 d128 decode GQA 32/8 paged 16 ragged long (chunked splits)", dict(B=6, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 6, lk=[5000, 300, 2600, 64, 4100, 1], page_size=16)),
        ("bf16 d128 decode GQA 32/8 paged 16 seqused chunk 4", dict(B=5, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 5, lk=[900, 700, 64, 300, 1000], used=[850, 1, 64, 0, 999], page_size=16, cpu_ref=True, env={"SK_DECODE_CHUNK": "4"})),
        ("f16 d64 decode GQA 16/4 Lq=2 causal paged 32 chunk 1", dict(B=3, H=16, Hk=4, D=64, dtype=torch.float16, lq=[2, 1, 2], lk=[700, 129, 40], causal=True, page_size=32, cpu_ref=True, env={"SK_DECODE_CHUNK": "1"})),
        ("bf16 d128 decode GQA 32/8 paged 16 seqused 2-warp (v12)", dict(B=5, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 5, lk=[900, 700, 64, 300, 1000], used=[850, 1, 64, 0, 999], page_size=16, cpu_ref=True, env={"SK_DECODE_VARIANT": "12"})),
        ("bf16 d256 decode GQA 32/8 Lq=4 causal paged 16 2-warp (v12)", dict(B=3, H=32, Hk=8, D=256, dtype=bf, lq=[4, 1, 4], lk=[600, 300, 40], causal=True, page_size=16, cpu_ref=True, env={"SK_DECODE_VARIANT": "12"})),
        # one split over > 256 pages: the shared-memory page window is refilled mid-sequence
        ("bf16 d128 decode GQA 32/8 paged 16 one split (page window refill)", dict(B=3, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 3, lk=[5000, 4200, 300], used=[4999, 4105, 300], page_size=16, splits=1)),
        ("f16 d128 decode GQA 32/8 paged 16 one split 3-stage (v11)", dict(B=2, H=32, Hk=8, D=128, dtype=torch.float16, lq=[1, 1], lk=[4500, 4400], page_size=16, splits=1, env={"SK_DECODE_VARIANT": "11"})),
        ("bf16 d256 decode GQA 32/8 Lq=3 causal paged 16 one split (v12)", dict(B=2, H=32, Hk=8, D=256, dtype=bf, lq=[3, 3], lk=[4400, 5000], page_size=16, causal=True, splits=1)),
        ("bf16 d128 decode GQA 32/8 paged 48 3-stage chunk 2", dict(B=4, H=32, Hk=8, D=128, dtype=bf, lq=[1] * 4, lk=[1000, 500, 48, 333], page_size=48, cpu_ref=True, env={"SK_DECODE_VARIANT": "11", "SK_DECODE_CHUNK": "2"})),
    ]
    cases += more
    for name, kw in cases:
        if kw.get("lq") is None:
            nominal = 2048 if "2048" in name else 1024
            kw["lq"] = seqlens(gc, kw["B"], nominal)
            kw["lk"] = kw["lq"]
            if quick:
                continue
        try:
            attn_case(lib, name, gen=g, **kw)
        except Exception as e:  # noqa: BLE001
            record("varlen_attn", name, False, error=f"{type(e).__name__}: {str(e)[:160]}")
    # unsupported combination gives a clear error
    p = sklib.AttnParams()
    dummy = torch.zeros(16, device="cuda", dtype=torch.int32)
    p.dtype = sklib.SK_BF16; p.batch = 1; p.num_heads = 2; p.num_heads_kv = 2; p.head_dim = 128
    p.total_q = 1; p.max_seqlen_q = 1; p.max_seqlen_k = 8; p.q = dummy.data_ptr(); p.out = dummy.data_ptr()
    p.cu_seqlens_q = dummy.data_ptr(); p.cu_seqlens_k = dummy.data_ptr(); p.k_cache = dummy.data_ptr()
    p.v_cache = dummy.data_ptr(); p.page_table = dummy.data_ptr(); p.num_pages = 1; p.page_size = 8; p.max_pages_per_seq = 1
    st = lib.lib.sk_varlen_attn_fwd(C.byref(p), None)
    msg = lib.err()
    record("varlen_attn", "page_size 8 rejected with clear error", st == 2 and "page_size" in msg, status=st, message=msg)


# ========================================================== index_reduce
def check_index_reduce(lib):
    gc = torch.Generator(); gc.manual_seed(int(time.time()) + 2)
    # hot rows: (8,128)<-2^18 hits 5 rows (~52k source rows each, ~205 groups of 256);
    # (3,33)<-5000 (scalar path, several groups); (16,64)<-70000 (~7.8k each)
    shapes = [(1, 1, 1), (100, 7, 1000), (1000, 128, 20000), (4096, 64, 70000), (50, 33, 0), (3000, 24, 5),
              (8, 128, 1 << 18), (3, 33, 5000), (16, 64, 70000)]
    stream = torch.cuda.current_stream().cuda_stream
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        for reduce in ("prod", "mean", "amax", "amin"):
            for include_self in (True, False):
                for (rows, cols, n) in shapes:
                    if n >= (1 << 18) and dtype == torch.float16:
                        continue
                    name = f"{DTN[dtype]} {reduce} self={int(include_self)} ({rows},{cols})<-{n}"
                    try:
                        lo, hi = (0.7, 1.3) if reduce == "prod" else (-3.0, 3.0)
                        if reduce == "prod" and n > 100 * rows:  # long products stay in range
                            lo, hi = (0.99, 1.01)
                        self0 = (torch.rand(rows, cols, generator=gc) * (hi - lo) + lo).to(dtype)
                        src = (torch.rand(n, cols, generator=gc) * (hi - lo) + lo).to(dtype)
                        if n and reduce in ("amax", "amin"):
                            src.view(-1)[torch.randint(0, n * cols, (3,), generator=gc)] = float("nan")
                            self0.view(-1)[torch.randint(0, rows * cols, (2,), generator=gc)] = float("nan")
                        # indices hit about half the rows, with duplicates
                        idx = torch.randint(0, max(1, rows // 2 + 1), (n,), generator=gc, dtype=torch.int64).clamp_(max=rows - 1)
                        ds, dsrc, didx = self0.cuda(), src.cuda(), idx.cuda()
                        ours = ds.clone()
                        st = lib.lib.sk_index_reduce(DT[dtype], ptr(ours), rows, cols, ptr(didx), n, ptr(dsrc),
                                                     sklib.REDUCES[reduce], int(include_self), C.c_void_p(stream))
                        lib.check(st, "sk_index_reduce")
                        again = ds.clone()
                        lib.check(lib.lib.sk_index_reduce(DT[dtype], ptr(again), rows, cols, ptr(didx), n, ptr(dsrc),
                                                          sklib.REDUCES[reduce], int(include_self), C.c_void_p(stream)), "again")
                        torch.cuda.synchronize()
                        deterministic = bool(torch.equal(ours.view(torch.int16 if dtype != torch.float32 else torch.int32),
                                                         again.view(torch.int16 if dtype != torch.float32 else torch.int32)))
                        theirs = ds.clone().index_reduce_(0, didx, dsrc, reduce, include_self=include_self)
                        ref = self0.clone()
                        lib.check(lib.lib.sk_index_reduce_ref(DT[dtype], ptr(ref), rows, cols, ptr(idx), n, ptr(src),
                                                              sklib.REDUCES[reduce], int(include_self)), "ref")
                        o = ours.cpu()
                        nan_o, nan_r = torch.isnan(o), torch.isnan(ref)
                        exact_ref = bool(torch.equal(nan_o, nan_r) and torch.equal(o[~nan_o], ref[~nan_r]))
                        t = theirs.cpu()
                        nan_t = torch.isnan(t)
                        same_nan_t = bool(torch.equal(nan_o, nan_t))
                        truth = ds.double().index_reduce_(0, didx, dsrc.double(), reduce, include_self=include_self).cpu()
                        def err_vs_truth(x):
                            m = ~torch.isnan(truth)
                            if not m.any():
                                return 0.0
                            return ((x[m].double() - truth[m]).abs() / (truth[m].abs() + 1.0)).max().item()
                        e_ours = err_vs_truth(o) if same_nan_t else float("inf")
                        e_torch = err_vs_truth(t)
                        eps = {torch.float32: 1e-5, torch.float16: 1e-3, torch.bfloat16: 8e-3}[dtype]
                        # a float32 chain over c values drifts by ~sqrt(c) roundings (random walk) whatever
                        # the order (torch's atomics too): allow 4 sqrt(c) ulp(1) for long rows
                        maxcount = int(torch.bincount(idx, minlength=rows).max().item()) if n else 0
                        eps = max(eps, 4.0 * math.sqrt(maxcount) * 2.0 ** -24)
                        if reduce in ("amax", "amin"):
                            ok_t = same_nan_t and bool(torch.equal(o[~nan_o], t[~nan_t]))
                        else:
                            ok_t = same_nan_t and e_ours <= max(1.01 * e_torch, eps)
                        maxdiff = (o[~nan_o].double() - t[~nan_t].double()).abs().max().item() if same_nan_t and (~nan_o).any() else 0.0
                        record("index_reduce", name, exact_ref and ok_t and deterministic, exact_vs_cpu_ref=exact_ref,
                               bit_identical_rerun=deterministic,
                               err_vs_f64=e_ours, torch_err_vs_f64=e_torch, maxdiff_vs_torch=maxdiff,
                               nan_match_torch=same_nan_t)
                    except Exception as e:  # noqa: BLE001
                        record("index_reduce", name, False, error=f"{type(e).__name__}: {str(e)[:160]}")


# ============================================================ conversion
def special_f32(n, gen):
    bits = torch.randint(-2**31, 2**31, (n,), generator=gen, dtype=torch.int64).to(torch.int32)
    sp = torch.tensor([0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
                       0x7f7fffff, 0xff7fffff, 0x00000001, 0x807fffff, 0x00800000, 0x477fe000, 0x477ff000,
                       0x477fefff, 0x33000000, 0x33000001, 0x387fc000, 0x3f808000, 0x3f818000, 0x38800000,
                       0x3f7fffff], dtype=torch.int64).to(torch.int32)
    k = min(n, sp.numel())
    bits[:k] = sp[:k]
    x = bits.view(torch.float32)
    if n > 64:  # a slice of ordinary values and fp16-range values with ties
        x[n // 4:n // 2] = torch.randn(n // 2 - n // 4, generator=gen) * 1000
    return x


def check_convert(lib):
    gc = torch.Generator(); gc.manual_seed(int(time.time()) + 3)
    stream = torch.cuda.current_stream().cuda_stream
    narrow_cases = [(0, 0, 0), (1, 0, 0), (7, 0, 0), (8, 0, 0), (1000, 1, 1), (1000, 0, 0), ((1 << 20) + 3, 0, 0),
                    ((1 << 20) + 3, 3, 3), (1 << 24, 0, 0)]
    # sources and destinations unaligned independently (the source 1..7 floats past 32 bytes)
    for n in (1, 5, 9, 15, 16, 17, 23, 31, 33, 40, 1001):
        for so, do in ((1, 0), (2, 0), (3, 0), (0, 1), (0, 3), (1, 3), (3, 1), (5, 2), (7, 7)):
            narrow_cases.append((n, so, do))
    for so, do in ((1, 0), (3, 0), (2, 5), (6, 1)):
        narrow_cases.append(((1 << 24) + 5, so, do))
    for dst in (torch.float16, torch.bfloat16):
        for n, offset, doff in narrow_cases:
            name = f"f32->{DTN[dst]} n={n} offset={offset}" + (f" dst_offset={doff}" if doff != offset else "")
            try:
                x = special_f32(n + offset, gc)[offset:]
                dx = torch.empty(n + 8 + offset, device="cuda")[offset:offset + n]
                dx.copy_(x)
                obuf = torch.full((n + doff + 8,), float("nan"), dtype=dst, device="cuda")
                out = obuf[doff:doff + n]
                lib.check(lib.lib.sk_convert(sklib.SK_F32, ptr(dx), DT[dst], ptr(out), n, C.c_void_p(stream)), "sk_convert")
                torch.cuda.synchronize()
                t = dx.to(dst)
                ob, tb = out.view(torch.int16).cpu(), t.view(torch.int16).cpu()
                on, tn = torch.isnan(out.cpu().float()), torch.isnan(t.cpu().float())
                nan_ok = bool(torch.equal(on, tn))
                mism = int((ob[~on] != tb[~tn]).sum().item()) if nan_ok else -1
                ref = torch.empty(n, dtype=torch.int16)
                lib.check(lib.lib.sk_convert_ref(sklib.SK_F32, ptr(x.contiguous()), DT[dst], ptr(ref), n), "ref")
                mref = int((ob != ref).sum().item())
                unwritten = int(on.sum().item()) - int(torch.isnan(x).sum().item())
                guard = int((~torch.isnan(torch.cat([obuf[:doff], obuf[doff + n:]]).float())).sum().item())
                record("convert", name, nan_ok and mism == 0 and mref == 0 and guard == 0, mismatch_vs_torch=mism,
                       mismatch_vs_cpu_ref=mref, unwritten=max(0, unwritten), written_outside=guard)
            except Exception as e:  # noqa: BLE001
                record("convert", name, False, error=f"{type(e).__name__}: {str(e)[:160]}")
    widen_cases = [(65536, 0, 0), (65536 * 3 + 5, 1, 1), (1 << 24, 0, 0), ((1 << 24) + 3, 1, 0), ((1 << 24) + 3, 7, 2)]
    for n in (1, 7, 9, 17, 31, 1001, 65536 + 13):
        for so, do in ((1, 0), (3, 0), (4, 0), (7, 0), (0, 1), (0, 3), (5, 3), (2, 1)):
            widen_cases.append((n, so, do))
    for src in (torch.float16, torch.bfloat16):
        for n, offset, doff in widen_cases:
            name = f"{DTN[src]}->f32 n={n} offset={offset}" + (f" dst_offset={doff}" if doff != offset else "")
            try:
                bits = torch.arange(n + offset, dtype=torch.int32).remainder(65536).to(torch.int16)
                if n > 65536:
                    bits[65536:] = torch.randint(-32768, 32768, (n + offset - 65536,), generator=gc, dtype=torch.int32).to(torch.int16)
                x = bits.view(src)[offset:]
                dx = torch.empty(n + 8 + offset, dtype=src, device="cuda")[offset:offset + n]
                dx.copy_(x)
                obuf = torch.full((n + doff + 8,), float("nan"), device="cuda")
                out = obuf[doff:doff + n]
                lib.check(lib.lib.sk_convert(DT[src], ptr(dx), sklib.SK_F32, ptr(out), n, C.c_void_p(stream)), "sk_convert")
                torch.cuda.synchronize()
                t = dx.float()
                ob, tb = out.view(torch.int32).cpu(), t.view(torch.int32).cpu()
                on, tn = torch.isnan(out.cpu()), torch.isnan(t.cpu())
                nan_ok = bool(torch.equal(on, tn))
                mism = int((ob[~on] != tb[~tn]).sum().item()) if nan_ok else -1
                ref = torch.empty(n, dtype=torch.int32)
                lib.check(lib.lib.sk_convert_ref(DT[src], ptr(x.contiguous()), sklib.SK_F32, ptr(ref), n), "ref")
                mref = int((ob != ref).sum().item())
                guard = int((~torch.isnan(torch.cat([obuf[:doff], obuf[doff + n:]]))).sum().item())
                record("convert", name, nan_ok and mism == 0 and mref == 0 and guard == 0, mismatch_vs_torch=mism,
                       mismatch_vs_cpu_ref=mref, written_outside=guard)
            except Exception as e:  # noqa: BLE001
                record("convert", name, False, error=f"{type(e).__name__}: {str(e)[:160]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=None)
    ap.add_argument("--json", default="check.json")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    lib = sklib.Lib(a.lib)
    print(f"torch {torch.__version__} device {torch.cuda.get_device_name()} cuda_available={lib.lib.sk_cuda_available()}")
    t0 = time.time()
    if not a.only or "convert" in a.only:
        check_convert(lib)
    if not a.only or "index" in a.only:
        check_index_reduce(lib)
    if not a.only or "attn" in a.only:
        check_attention(lib, a.quick)
    summary = {}
    for r in RESULTS:
        s = summary.setdefault(r["kernel"], {"pass": 0, "fail": 0})
        s["pass" if r["ok"] else "fail"] += 1
    print("\n=== summary (%.0f s) ===" % (time.time() - t0))
    for k, s in summary.items():
        print(f"{k:<14} pass {s['pass']:>4}  fail {s['fail']:>3}")
    with open(a.json, "w") as f:
        json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "date": time.strftime("%Y-%m-%d"),
                   "summary": summary, "results": RESULTS}, f, indent=1)
    sys.exit(0 if all(s["fail"] == 0 for s in summary.values()) else 1)


if __name__ == "__main__":
    main()
