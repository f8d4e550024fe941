#!/bin/bash
# The demo day's three planted regressions on a real GPU: builds kernels/ as it is at main and
# with each planted bug (index_reduce mean miscounting with include_self=False, bf16 truncating,
# timing reading an event before it completed), then runs the built-in suites through the same
# harness as `sheriff worker` (child process with a time limit, CUDA kernels against the CPU
# references, CUDA-event timing) and writes the result JSONs to $OUT.
#
# Expects .carry/ (made on the dev machine, git-ignored): node.xz (Node 20), app/ (compiled dist,
# zod, yaml and the native addon), kernels-{good,ir,bf16,event}.tar (kernels/ of each variant).
set -u
OUT=${OUT:-/tmp/sheriff-out}
C=$PWD/.carry T=/tmp/sheriff-dev
mkdir -p "$T" "$OUT"
xz -d -c "$C/node.xz" > "$T/node" && chmod +x "$T/node"
export PATH="$T:/usr/local/cuda/bin:/opt/torch/.venv/bin:$PATH"
echo "== $(date -u +%FT%TZ) $(node --version) on $(hostname)"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
export SHERIFF_CUDA_GENCODE="-gencode=arch=compute_90a,code=sm_90a" SHERIFF_BUILD_JOBS=4
RS="node $C/app/dist/runner/suiteMain.js run-suite --work-dir $T/work --cuda on"
sha() { printf '%040d' "$1"; }
i=0
for v in good ir bf16 event; do
  i=$((i + 1)); mkdir -p "$T/$v" && tar -xf "$C/kernels-$v.tar" -C "$T/$v"
  $RS --suite half-precision --dir "$T/$v" --sha "$(sha $i)" --build-only > "$T/build-$v.log" 2>&1 &
done
wait
tail -n 2 "$T"/build-*.log
run() { $RS --suite "$2" --dir "$T/$1" --sha "$(sha "$3")" --timeout 240 --gpu 0 --out "$OUT/$1-$2.json" --quick > "$T/run-$1-$2.log" 2>&1; echo "$1 $2 exit $?"; }
for s in index-reduce half-precision cuda-events varlen-attention; do run good "$s" 1; done
run ir index-reduce 2
run bf16 half-precision 3
run event cuda-events 4
echo "== done $(date -u +%FT%TZ)"
