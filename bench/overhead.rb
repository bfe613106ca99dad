# Per-op overhead: building and evaluating a chain of small adds from Ruby
# versus from Python MLX (bench/overhead_mlx.py, same chain), in
# microseconds per op (graph construction plus evaluation).
#   ruby -Ilib bench/overhead.rb [OPS] [ROUNDS]
require "json"
require "mlx"

mx = MLX::Core
ops = (ARGV[0] || 10_000).to_i
rounds = (ARGV[1] || 5).to_i
python = ENV.fetch("PYTHON", "python3")

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

x = mx.ones([4])
one = mx.ones([4])
best = Float::INFINITY
rounds.times do
  y = x
  t = clock
  ops.times { y = y + one }
  mx.eval(y)
  best = [best, clock - t].min
end
ruby_us = best / ops * 1e6

script = File.join(__dir__, "overhead_mlx.py")
python_us = begin
  JSON.parse(IO.popen([python, script, ops.to_s, rounds.to_s], &:read))["us_per_op"]
rescue StandardError => e
  warn "python mlx run failed: #{e.message}"
  nil
end

puts format("chain of %d adds on float32[4], best of %d", ops, rounds)
puts format("  ruby        : %.3f us/op", ruby_us)
if python_us
  puts format("  python mlx  : %.3f us/op", python_us)
  puts format("  python/ruby : %.2fx", python_us / ruby_us)
end
