#!/usr/bin/env bash
# kernels/scripts/device_h200.sh -- one device call on the H200: build (CUDA, 16 jobs), ctest -V,
# the device checker, then the benchmark; everything under $OUT.
# Usage: OUT=/tmp/out kernels/scripts/device_h200.sh [check-args] -- [bench-args]
#   env: SKIP_CHECK=1, SKIP_BENCH=1, CHECK_ONLY=attn,index,convert, BENCH_ONLY=..., BENCH_ATTN_FILTER=...
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/sk_out}"; mkdir -p "$OUT"
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv
  python3 -c "import torch; print('torch', torch.__version__)"; nproc; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
t0=$(date +%s)
JOBS=16 CTEST_ARGS=-V SHERIFF_KERNELS_CUDA=ON kernels/scripts/ci.sh kernels/build > "$OUT/build_ctest.log" 2>&1
rc=$?
echo "build+ctest rc=$rc in $(( $(date +%s) - t0 )) s"; grep -E "tests passed|Failed|FAIL|error|checks" "$OUT/build_ctest.log" | head -20
[ $rc -ne 0 ] && { tail -40 "$OUT/build_ctest.log"; exit 1; }
export SK_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo n/a)$(git diff --quiet 2>/dev/null || echo +wip)"
if [ -z "${SKIP_CHECK:-}" ]; then
  t0=$(date +%s)
  python3 kernels/check/check.py --json "$OUT/check.json" ${CHECK_ONLY:+--only $CHECK_ONLY} > "$OUT/check.log" 2>&1; crc=$?
  echo "check rc=$crc in $(( $(date +%s) - t0 )) s"
  grep -E "^FAIL" "$OUT/check.log" | head -30; sed -n '/=== summary/,$p' "$OUT/check.log"
  if [ $crc -ne 0 ] && [ -z "${BENCH_EVEN_IF_FAIL:-}" ]; then echo "checker failed: no benchmark"; exit 1; fi
fi
if [ -z "${SKIP_BENCH:-}" ]; then
  t0=$(date +%s)
  BENCH_OUT="$OUT/bench.json" PYTHONUNBUFFERED=1 python3 bench/kernels/bench.py --out "$OUT/bench.json" --md "$OUT/bench.md" ${BENCH_ONLY:+--only $BENCH_ONLY} > "$OUT/bench.log" 2>&1
  echo "bench rc=$? in $(( $(date +%s) - t0 )) s"
  grep -vE "^\||^#|^$" "$OUT/bench.log" | tail -60
fi
