#!/usr/bin/env bash
# Builds the gem with the CUDA backend (MLX_CUDA=1, tag "cuda": engine/build-cuda,
# tmp/ext-cuda) and runs the GPU tests: test/gpu/*_gpu.rb compare every op
# with a CUDA kernel against the CPU. On the device machine:
#   . .device/setup.sh && test/gpu/run.sh
# MLX_GPU_PREBUILT=1 skips the build (a build made elsewhere, carried along);
# MLX_GPU_PACK=file unpacks test/gpu/pack.sh's extension instead of building.
# MLX_GPU_BENCH=1 also runs test/gpu/bandwidth.rb and test/gpu/matmul_bench.rb
# (and PyTorch beside them).
set -euo pipefail
cd "$(dirname "$0")/../.."
export MLX_BUILD_TAG=cuda MLX_CUDA=1
if [ -n "${MLX_GPU_PACK:-}" ]; then
  mkdir -p tmp/ext-cuda/lib/mlx
  xz -dc "$MLX_GPU_PACK" > tmp/ext-cuda/lib/mlx/native.so
elif [ "${MLX_GPU_PREBUILT:-0}" != 1 ]; then
  rake compile
fi
LIB=tmp/ext-cuda/lib
# The tests skip without a GPU; here that is a failure.
ruby -I"$LIB" -Ilib -e 'require "mlx"; exit 0 if MLX::Core.gpu_is_available
  warn "no GPU: #{MLX::Core.gpu_unavailable_reason}"; exit 1'
status=0
for t in test/gpu/*_gpu.rb; do
  echo "== $t"
  ruby -I"$LIB" -Ilib -Itest "$t" || status=1
done
if [ "${MLX_GPU_BENCH:-0}" = 1 ]; then
  echo "== bandwidth"
  ruby -I"$LIB" -Ilib test/gpu/bandwidth.rb || status=1
  if command -v python3 >/dev/null && python3 -c "import torch" 2>/dev/null; then
    python3 test/gpu/bandwidth_torch.py || status=1
  fi
  echo "== matmul"
  ruby -I"$LIB" -Ilib test/gpu/matmul_bench.rb || status=1
  if command -v python3 >/dev/null && python3 -c "import torch" 2>/dev/null; then
    python3 test/gpu/matmul_torch.py || status=1
  fi
fi
exit $status
