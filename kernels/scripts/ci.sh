#!/usr/bin/env bash
# kernels/scripts/ci.sh [build_dir] -- configure, build and run ctest.
# CUDA kernels are built when nvcc is found (override: SHERIFF_KERNELS_CUDA=ON|OFF|AUTO).
# GPU tests exit 77 (skipped) on machines without a device.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
mode="${SHERIFF_KERNELS_CUDA:-AUTO}"
if [ "$mode" = "AUTO" ] && ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then mode=OFF; fi
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1; then export PATH=/usr/local/cuda/bin:$PATH; fi
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
start=$(date +%s)
cmake -S "$here" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSHERIFF_KERNELS_CUDA="$mode"
cmake --build "$build" -j "$jobs"
echo "build time: $(( $(date +%s) - start )) s (SHERIFF_KERNELS_CUDA=$mode)"
(cd "$build" && ctest --output-on-failure ${CTEST_ARGS:-})
