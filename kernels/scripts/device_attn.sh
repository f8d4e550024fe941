#!/usr/bin/env bash
# kernels/scripts/device_attn.sh -- attention-only device call with a prebuilt
# library (carry kernels/build/libsheriff_kernels.so): quick checks of the
# default and of each wgmma variant (separate processes: a trap cannot take the
# benchmark down), then the attention benchmark of the variants that passed.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/sk_out}"; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
ok="1,2"
for v in ${CHECK_WG:-3 4}; do
  SK_ATTN_VARIANT=$v timeout 90 python3 kernels/check/check.py --only attn --quick --json "$OUT/check_v$v.json" > "$OUT/check_v$v.log" 2>&1
  rc=$?; echo "check v$v rc=$rc"; grep -E "^FAIL" "$OUT/check_v$v.log" | head -4 | cut -c1-300; sed -n '/=== summary/,$p' "$OUT/check_v$v.log" | head -5
  [ $rc -eq 0 ] && ok="$ok,$v"
done
[ -n "${FULL_CHECK:-}" ] && { timeout 200 python3 kernels/check/check.py --json "$OUT/check.json" > "$OUT/check.log" 2>&1; echo "full check (default) rc=$?"; grep -E "^FAIL" "$OUT/check.log" | head -5; sed -n '/=== summary/,$p' "$OUT/check.log" | head -5; }
BENCH_ATTN_VARIANTS="${BENCH_ATTN_VARIANTS:-$ok}" timeout ${BENCH_TIMEOUT:-200} python3 bench/kernels/bench.py --only attn --out "$OUT/bench.json" --md "$OUT/bench.md" > "$OUT/bench.log" 2>&1
echo "bench rc=$? variants=$ok"; grep -vE "^\||^#|^$" "$OUT/bench.log" | tail -45 | cut -c1-220
