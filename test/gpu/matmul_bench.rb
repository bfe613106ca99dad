# frozen_string_literal: true

# matmul on the GPU (cuBLAS through the CUDA backend): 8192^3 bfloat16 and
# 4096^3 float32 (TF32 off unless MLX_CUDA_TF32=1), median of 10 runs after
# warm-up, wall clock around the op and a synchronize, in TFLOP/s.
# test/gpu/matmul_torch.py times PyTorch the same way on the same card.
require "mlx"

MX = MLX::Core
gpu = MX.default_stream(MX.gpu)
[[8192, :bfloat16], [4096, :float32]].each do |n, dt|
  a = MX.astype(MX::Random.normal([n, n], dtype: MX.float32, stream: :cpu), MX.public_send(dt), stream: :cpu)
  b = MX.astype(MX::Random.normal([n, n], dtype: MX.float32, stream: :cpu), MX.public_send(dt), stream: :cpu)
  MX.eval(a, b)
  times = []
  c = nil
  13.times do |i|
    c = nil
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    c = MX.matmul(a, b, stream: :gpu)
    MX.eval(c)
    MX.synchronize(gpu)
    dt_s = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    times << dt_s if i >= 3
  end
  med = times.sort[times.size / 2]
  printf("mlx-ruby matmul %d^3 %s: median %.3f ms, %.1f TFLOP/s\n", n, dt, med * 1e3, 2.0 * n**3 / med / 1e12)
end
