#!/bin/bash
# Runs Sheriff's four built-in kernel suites at two commits on a GPU machine, through the same
# harness as `sheriff worker` (kernels built at each commit into the content-keyed cache, each
# suite in a child process with a time limit), and writes the 8 result JSONs to $OUT.
#
# Expects .carry/ (made on the dev machine, git-ignored): node.xz (Node 20), app/ (compiled
# dist + zod + yaml + the native addon), kernels-good.tar / kernels-bug.tar (git archive of
# kernels/ at the two commits). Usage: run-on-device.sh GOOD_SHA BUG_SHA [cuda=on]
set -u
GOOD=$1 BUG=$2 CUDA=${3:-on}
OUT=${OUT:-/tmp/sheriff-out}
C=$PWD/.carry T=/tmp/sheriff-dev
mkdir -p "$T" "$OUT"
xz -d -c "$C/node.xz" > "$T/node" && chmod +x "$T/node"
export PATH="$T:$PATH"
echo "== $(date -u +%FT%TZ) $(node --version) on $(hostname)"
nvidia-smi -L 2>/dev/null; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
nvcc --version 2>/dev/null | tail -1; cmake --version | head -1
for w in good bug; do mkdir -p "$T/$w" && tar -xf "$C/kernels-$w.tar" -C "$T/$w"; done
export SHERIFF_CUDA_GENCODE="${SHERIFF_CUDA_GENCODE:--gencode=arch=compute_90a,code=sm_90a}"
export SHERIFF_BUILD_JOBS=${SHERIFF_BUILD_JOBS:-8}
RS="node $C/app/dist/runner/suiteMain.js run-suite --work-dir $T/work --cuda $CUDA"
GPU_ARG=""; nvidia-smi -L >/dev/null 2>&1 && GPU_ARG="--gpu 0"
# build both commits' kernels in parallel (nothing is timed while they build)
$RS --suite half-precision --dir "$T/good" --sha "$GOOD" --build-only > "$T/build-good.log" 2>&1 &
$RS --suite half-precision --dir "$T/bug" --sha "$BUG" --build-only > "$T/build-bug.log" 2>&1 &
wait
tail -n 3 "$T/build-good.log" "$T/build-bug.log"
cat "$T"/work/kernels-cache/builds.log
for w in good bug; do
  sha=$GOOD; [ $w = bug ] && sha=$BUG
  for s in half-precision index-reduce varlen-attention cuda-events; do
    $RS --suite $s --dir "$T/$w" --sha "$sha" --timeout 240 $GPU_ARG --out "$OUT/$w-$s.json" ${QUICK:+--quick} 2>&1 | head -12
  done
done
echo "== done $(date -u +%FT%TZ)"
