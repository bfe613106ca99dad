# Matmul benchmark: a 4096x4096x4096 float32 product through the Ruby API
# versus cblas_sgemm called directly (through Fiddle, in this process, on the
# same OpenBLAS). Prints GFLOP/s of both and their ratio.
#   ruby -Ilib bench/matmul.rb [N] [ITERATIONS]
require "fiddle"
require "mlx"

mx = MLX::Core
n = (ARGV[0] || 4096).to_i
iterations = (ARGV[1] || 5).to_i

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

a = mx.random_uniform([n, n], -1.0, 1.0, mx.float32)
b = mx.random_uniform([n, n], -1.0, 1.0, mx.float32)
mx.eval(a, b)

openblas = Fiddle.dlopen("libopenblas.so.0")
sgemm = Fiddle::Function.new(
  openblas["cblas_sgemm"],
  [Fiddle::TYPE_INT, Fiddle::TYPE_INT, Fiddle::TYPE_INT, Fiddle::TYPE_INT, Fiddle::TYPE_INT, Fiddle::TYPE_INT,
   Fiddle::TYPE_FLOAT, Fiddle::TYPE_VOIDP, Fiddle::TYPE_INT, Fiddle::TYPE_VOIDP, Fiddle::TYPE_INT,
   Fiddle::TYPE_FLOAT, Fiddle::TYPE_VOIDP, Fiddle::TYPE_INT],
  Fiddle::TYPE_VOID
)
bytes = n * n * 4
pa = Fiddle::Pointer.malloc(bytes, Fiddle::RUBY_FREE)
pb = Fiddle::Pointer.malloc(bytes, Fiddle::RUBY_FREE)
pc = Fiddle::Pointer.malloc(bytes, Fiddle::RUBY_FREE)
pa[0, bytes] = a.to_a.flatten.pack("e*")
pb[0, bytes] = b.to_a.flatten.pack("e*")
row_major = 101
no_trans = 111
# Alternate the two, one warm-up each, so a change in machine load hits
# both alike.
ruby_times = []
direct_times = []
(iterations + 1).times do |i|
  t = clock
  c = mx.matmul(a, b)
  mx.eval(c)
  ruby_times << clock - t if i.positive?
  t = clock
  sgemm.call(row_major, no_trans, no_trans, n, n, n, 1.0, pa, n, pb, n, 0.0, pc, n)
  direct_times << clock - t if i.positive?
end

flops = 2.0 * n * n * n
ruby_gflops = flops / median(ruby_times) / 1e9
direct_gflops = flops / median(direct_times) / 1e9
puts format("matmul %dx%dx%d float32 (median of %d)", n, n, n, iterations)
puts format("  ruby MLX::Core.matmul : %8.2f ms  %7.1f GFLOP/s", median(ruby_times) * 1e3, ruby_gflops)
puts format("  cblas_sgemm direct    : %8.2f ms  %7.1f GFLOP/s", median(direct_times) * 1e3, direct_gflops)
puts format("  ruby / direct         : %.3f", ruby_gflops / direct_gflops)
