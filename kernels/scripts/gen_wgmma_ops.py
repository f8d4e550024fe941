out = []
out.append("// attn_wgmma_ops.cuh -- generated wgmma wrappers (sm_90a). m64nNk16, f32 accumulate.\n#pragma once\n#include <cstdint>\nnamespace sk_attn {\n")
for N in (64, 128):
    nr = N // 2
    for ty in ("bf16", "f16"):
        regs = ", ".join(f"%{i}" for i in range(nr))
        cons = ", ".join(f'"+f"(d[{i}])' for i in range(nr))
        # SS
        out.append(f"__device__ __forceinline__ void wgmma_ss_n{N}_{ty}(float* d, uint64_t da, uint64_t db, int scale_d) {{\n"
                   f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{nr+2}, 0;\\n\"\n"
                   f"    \"wgmma.mma_async.sync.aligned.m64n{N}k16.f32.{ty}.{ty} {{{regs}}}, %{nr}, %{nr+1}, p, 1, 1, 0, 0;\\n}}\\n\"\n"
                   f"    : {cons}\n    : \"l\"(da), \"l\"(db), \"r\"(scale_d));\n}}\n")
        # RS, B transposed (MN-major)
        out.append(f"__device__ __forceinline__ void wgmma_rs_n{N}_{ty}(float* d, const uint32_t* a, uint64_t db, int scale_d) {{\n"
                   f"  asm volatile(\"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{nr+5}, 0;\\n\"\n"
                   f"    \"wgmma.mma_async.sync.aligned.m64n{N}k16.f32.{ty}.{ty} {{{regs}}}, {{%{nr}, %{nr+1}, %{nr+2}, %{nr+3}}}, %{nr+4}, p, 1, 1, 1;\\n}}\\n\"\n"
                   f"    : {cons}\n    : \"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), \"l\"(db), \"r\"(scale_d));\n}}\n")
out.append("}  // namespace sk_attn\n")
import os; open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../src/attn_wgmma_ops.cuh"), "w").write("".join(out))
