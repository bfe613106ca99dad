#!/usr/bin/env bash
# Regenerates bench/RESULTS.md: the foundation benchmarks (matmul against
# direct sgemm, elementwise against NumPy, per-op overhead against Python
# MLX, compile against uncompiled) and the op families against Python MLX
# (convolution, attention and norms, FFT, a nano GPT training step), each
# with its peer in the same run.
#   bench/run_core.sh            (after `rake compile`; NumPy and mlx via pip)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/RESULTS.md
python=${PYTHON:-python3}
{
  echo "# Benchmark results"
  echo
  echo "Regenerate with \`bench/run_core.sh\`. Each table runs ours and its peer in the same run."
  echo
  echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- Ruby $(ruby -e 'print RUBY_VERSION'), mlx gem $(ruby -Ilib -rmlx -e 'print MLX::VERSION'), $($python -c 'import numpy, sys; print("NumPy", numpy.__version__, end="")' 2>/dev/null || echo 'NumPy n/a'), $($python -c 'import mlx.core as mx; print("Python MLX", mx.__version__, end="")' 2>/dev/null || echo 'Python MLX n/a')"
  echo "- Date: $(date -u +%Y-%m-%d)"
  echo
  echo '## Matmul (4096 x 4096 x 4096, float32)'
  echo
  echo '```'
  ruby -Ilib bench/matmul.rb 4096 5
  echo '```'
  echo
  echo '## Elementwise (16M float32)'
  echo
  echo '```'
  ruby -Ilib bench/elementwise.rb
  echo '```'
  echo
  echo '## Per-op overhead'
  echo
  echo '```'
  ruby -Ilib bench/overhead.rb
  echo '```'
  if [ -f bench/compile.rb ]; then
    echo
    echo '## compile (GELU-like chain, 16M float32)'
    echo
    echo '```'
    ruby -Ilib bench/compile.rb
    echo '```'
  fi
  echo
  echo '## Convolution (the seed CNN convolutions, batch 8) vs Python MLX'
  echo
  echo '```'
  ruby -Ilib bench/conv.rb 8 20 5
  echo '```'
  echo
  echo '## scaled_dot_product_attention (B=8, H=8, L=128, D=64) and norms vs Python MLX'
  echo
  echo '```'
  ruby -Ilib bench/sdpa.rb 5 20
  echo '```'
  echo
  blas=/usr/lib/x86_64-linux-gnu/libopenblas.so.0
  if [ -f "$blas" ]; then
    echo
    echo '## The same, with Python MLX on our OpenBLAS'
    echo
    echo 'The Linux `mlx[cpu]` wheel bundles the reference (Netlib) BLAS, which makes its'
    echo 'convolutions and attention slow; here it is given the same OpenBLAS as ours'
    echo '(`LD_PRELOAD`), so the ratios compare the kernels themselves.'
    echo
    echo '```'
    LD_PRELOAD=$blas ruby -Ilib bench/conv.rb 8 20 5
    LD_PRELOAD=$blas ruby -Ilib bench/sdpa.rb 5 20
    echo '```'
  fi
  echo
  echo '## FFT (512-point, batch 4096) vs Python MLX'
  echo
  echo '```'
  ruby -Ilib bench/fft.rb 4096 512 7 3
  echo '```'
  echo
  echo '## nano GPT training step (batch 4, sequence 32, dims 128, 4 heads, 2 layers) vs Python MLX'
  echo
  echo '```'
  ruby -Ilib bench/nanogpt.rb
  if [ -f "$blas" ]; then
    echo '(python mlx on our OpenBLAS:)'
    LD_PRELOAD=$blas ruby -Ilib bench/nanogpt.rb
  fi
  echo '```'
} > "$out.tmp"
# Keep the model-benchmark block that `rake benchmark:results` maintains.
if [ -f "$out" ] && grep -q '<!-- rake benchmark:results begin' "$out"; then
  { echo; sed -n '/<!-- rake benchmark:results begin/,/<!-- rake benchmark:results end/p' "$out"; } >> "$out.tmp"
fi
mv "$out.tmp" "$out"
cat "$out"
