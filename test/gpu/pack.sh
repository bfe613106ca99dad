#!/usr/bin/env bash
# Builds the gem with the CUDA backend here, for any x86-64-v3 (AVX2)
# host (MLX_BUILD_TAG=cuda-portable: engine/build-cuda-portable,
# tmp/ext-cuda-portable), and packs the extension for the device machine
# as tmp/gpu-pack/native.so.xz (about 7 MB). A device call that carries
# tmp/gpu-pack then skips its own build (about 100 s of device time):
#   test/gpu/pack.sh            # here
#   run(carry: [".device", "tmp/gpu-pack"],
#       command: ". .device/setup.sh && MLX_GPU_PACK=tmp/gpu-pack/native.so.xz bash test/gpu/run.sh")
set -euo pipefail
cd "$(dirname "$0")/../.."
MLX_BUILD_TAG=cuda-portable MLX_CUDA=1 MLX_ENGINE_OPT="-O3 -march=x86-64-v3" rake compile
mkdir -p tmp/gpu-pack
strip --strip-debug -o tmp/gpu-pack/native.so tmp/ext-cuda-portable/lib/mlx/native.so
xz -T2 -6 -f tmp/gpu-pack/native.so
ls -l tmp/gpu-pack/native.so.xz
