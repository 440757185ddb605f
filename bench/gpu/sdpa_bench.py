#!/usr/bin/env python3
"""Times torch scaled_dot_product_attention on the attention shapes the ILGPU run wrote, and torch.matmul on its
prefill GEMM shapes, and prints both side by side.

Usage: sdpa_bench.py ILGPU_JSON OUT_JSON [--dry-run]
The paged kernel reads F32 K/V through block tables; SDPA gets dense contiguous K/V, timed in F32 and F16.
The ILGPU GEMM dequantizes F16/Int8/Int4 weights into F32 tiles; torch multiplies dense F32 and F16 matrices.
"""
import json
import sys

import torch
import torch.nn.functional as F


def time_ms(fn, iters):
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / iters
    import time
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t) * 1000 / iters


def sdpa_case(c, dtype, device, iters):
    b, lq, ctx, h, hkv, d = c["batch"], c["q_len"], c["ctx"], c["heads"], c["kv_heads"], c["head_dim"]
    q = torch.randn(b, h, lq, d, dtype=dtype, device=device)
    k = torch.randn(b, hkv, ctx, d, dtype=dtype, device=device)
    v = torch.randn(b, hkv, ctx, d, dtype=dtype, device=device)
    # Causal over the cached prefix: query i sits at position ctx - lq + i.
    pos_q = torch.arange(ctx - lq, ctx, device=device)[:, None]
    mask = torch.arange(ctx, device=device)[None, :] <= pos_q
    try:
        fn = lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
        fn()
    except TypeError:  # torch < 2.5 has no enable_gqa
        k2, v2 = k.repeat_interleave(h // hkv, 1), v.repeat_interleave(h // hkv, 1)
        fn = lambda: F.scaled_dot_product_attention(q, k2, v2, attn_mask=mask)
    return time_ms(fn, iters)


def gemm_case(c, dtype, device, iters):
    x = torch.randn(c["rows"], c["k"], dtype=dtype, device=device)
    w = torch.randn(c["out_features"], c["k"], dtype=dtype, device=device)
    return time_ms(lambda: x @ w.T, iters)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    dry = "--dry-run" in sys.argv
    device = "cuda" if torch.cuda.is_available() and not dry else "cpu"
    ilgpu = json.load(open(src))
    out = []
    gemm_out = []
    iters = 2 if dry else 20
    print(f"torch {torch.__version__} on {device}")
    print(f"{'case':24} {'ilgpu ms':>10} {'no split':>10} {'sdpa f32 ms':>12} {'sdpa f16 ms':>12}")
    for c in ilgpu["attention"]:
        f32 = sdpa_case(c, torch.float32, device, iters)
        f16 = sdpa_case(c, torch.float16, device, iters) if device == "cuda" else float("nan")
        out.append({**c, "sdpa_f32_ms": f32, "sdpa_f16_ms": f16})
        no_split = c.get("ilgpu_no_split_ms")
        print(f"{c['name']:24} {c['ilgpu_ms']:10.3f} {no_split if no_split is not None else float('nan'):10.3f} {f32:12.3f} {f16:12.3f}")
    print(f"{'gemm case':28} {'tiled ms':>10} {'4-row ms':>10} {'torch f32 ms':>13} {'torch f16 ms':>13}")
    for c in ilgpu.get("gemm", []):
        f32 = gemm_case(c, torch.float32, device, iters)
        f16 = gemm_case(c, torch.float16, device, iters) if device == "cuda" else float("nan")
        gemm_out.append({**c, "torch_f32_ms": f32, "torch_f16_ms": f16})
        print(f"{c['name']:28} {c['tiled_ms']:10.3f} {c['four_row_ms']:10.3f} {f32:13.3f} {f16:13.3f}")
    json.dump({"attention": out, "gemm": gemm_out}, open(dst, "w"), indent=2)


if __name__ == "__main__":
    main()
