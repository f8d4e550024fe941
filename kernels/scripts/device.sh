#!/usr/bin/env bash
# kernels/scripts/device.sh -- one device call: build (CUDA), ctest (incl. GPU
# timing tests), the checker and the benchmark; logs/JSON under $OUT.
# Usage: OUT=/tmp/out kernels/scripts/device.sh [check|bench|all] [extra args]
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/sk_out}"; mkdir -p "$OUT"
what="${1:-all}"; shift || true
{
  echo "== env"; date -u; which node && node --version; which g++ cmake ninja nvcc; nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv
  python3 -c "import torch; print('torch', torch.__version__)"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
t0=$(date +%s)
JOBS=16 CTEST_ARGS=-V SHERIFF_KERNELS_CUDA=ON kernels/scripts/ci.sh kernels/build > "$OUT/build_ctest.log" 2>&1
rc=$?
echo "build+ctest rc=$rc in $(( $(date +%s) - t0 )) s"; grep -E "build time|tests passed|Failed|FAIL|error|spill" "$OUT/build_ctest.log" | head -20
grep -E "median|status|library|C ABI|OK [(]|FAILED|checks" "$OUT/build_ctest.log" | head -20
if [ "$what" = "check" ] || [ "$what" = "all" ]; then
  python3 kernels/check/check.py --json "$OUT/check.json" "$@" > "$OUT/check.log" 2>&1; echo "check rc=$?"
  grep -E "^FAIL" "$OUT/check.log" | head -30; sed -n '/=== summary/,$p' "$OUT/check.log"
  if [ -n "${CHECK_VARIANTS:-}" ]; then
    SK_CONVERT_VARIANT=1 SK_ATTN_VARIANT=1 python3 kernels/check/check.py --only attn,convert --json "$OUT/check_alt.json" > "$OUT/check_alt.log" 2>&1; echo "check (variant 1 / grid-stride convert) rc=$?"
    grep -E "^FAIL" "$OUT/check_alt.log" | head -10; sed -n '/=== summary/,$p' "$OUT/check_alt.log"
  fi
fi
if [ "$what" = "bench" ] || [ "$what" = "all" ]; then
  python3 bench/kernels/bench.py --out "$OUT/bench.json" --md "$OUT/bench.md" "$@" > "$OUT/bench.log" 2>&1; echo "bench rc=$?"
  grep -vE "^\||^#|^$" "$OUT/bench.log" | tail -40
fi
