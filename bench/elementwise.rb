# Elementwise benchmark: ops on 16M-element float32 arrays through the Ruby
# API versus NumPy (run by bench/elementwise_numpy.py in a subprocess, same
# machine, same sizes). Prints ms per op for both and numpy/ruby ratios.
#   ruby -Ilib bench/elementwise.rb [ELEMENTS] [ITERATIONS]
require "json"
require "mlx"

mx = MLX::Core
size = (ARGV[0] || 16 * 1024 * 1024).to_i
iterations = (ARGV[1] || 20).to_i
python = ENV.fetch("PYTHON", "python3")

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

a = mx.random_uniform([size], 0.5, 1.5, mx.float32)
b = mx.random_uniform([size], 0.5, 1.5, mx.float32)
mx.eval(a, b)

ops = {
  "add" => -> { a + b },
  "multiply" => -> { a * b },
  "divide" => -> { a / b },
  "maximum" => -> { mx.maximum(a, b) },
  "add_scalar" => -> { a + 1.0 },
  "exp" => -> { mx.exp(a) },
  "sqrt" => -> { mx.sqrt(a) },
  "tanh" => -> { mx.tanh(a) },
  "sum" => -> { mx.sum(a) }
}

ruby_ms = ops.transform_values do |op|
  2.times { mx.eval(op.call) }
  median(Array.new(iterations) do
    t = clock
    mx.eval(op.call)
    clock - t
  end) * 1e3
end

script = File.join(__dir__, "elementwise_numpy.py")
numpy_ms = begin
  JSON.parse(IO.popen([python, script, size.to_s, iterations.to_s], &:read))
rescue StandardError => e
  warn "numpy run failed: #{e.message}"
  {}
end

puts format("elementwise on %d float32 elements (median of %d), threads=%d", size, iterations, MLX::Core.device_info(MLX::Core.cpu)["threads"])
puts format("  %-11s %10s %10s %12s", "op", "ruby ms", "numpy ms", "numpy/ruby")
ops.each_key do |name|
  np = numpy_ms[name]
  ratio = np ? format("%.2fx", np / ruby_ms[name]) : "n/a"
  puts format("  %-11s %10.3f %10s %12s", name, ruby_ms[name], np ? format("%.3f", np) : "n/a", ratio)
end
