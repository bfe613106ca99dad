# frozen_string_literal: true

# Elementwise add of two float32 arrays of 256M elements on the GPU: the
# median time of 20 runs (after warm-up) and the bandwidth it reaches
# (3 arrays of 1 GiB moved). test/gpu/bandwidth_torch.py times PyTorch on
# the same card.
require "mlx"

MX = MLX::Core
n = 256 * 1024 * 1024
x = MX.full([n], 1.5, MX.float32)
y = MX.full([n], 2.25, MX.float32)
MX.eval(x, y)
gpu = MX.default_stream(MX.gpu)
times = []
z = nil
23.times do |i|
  # the previous result goes back to the caches before the clock starts
  z = nil
  GC.start
  t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  z = MX.add(x, y, stream: :gpu)
  MX.eval(z)
  MX.synchronize(gpu)
  dt = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
  times << dt if i >= 3 # the first runs upload x and y and fill the caches
end
raise "wrong result" unless MX.sum(z, stream: :gpu).item == 3.75 * n

med = times.sort[times.size / 2]
printf("mlx-ruby add 256M float32: median %.3f ms, %.0f GB/s\n", med * 1e3, 3.0 * n * 4 / med / 1e9)
