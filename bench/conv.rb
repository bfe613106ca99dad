# Convolution benchmark: the seed CNN workload's two convolutions (NHWC,
# float32, padding 1) through the Ruby API versus Python MLX on the CPU,
# forward alone and forward + backward (gradients of sum(conv) with
# respect to input and weight). Times graph building plus evaluation; the
# median of ITERATIONS calls after one warm-up. Ruby and Python
# (bench/conv_mlx.py, a separate process) alternate for ROUNDS rounds so
# that a change in machine load hits both alike; the table shows the
# medians over rounds and python_ms / ruby_ms (> 1: Ruby is faster).
#   ruby -Ilib bench/conv.rb [BATCH] [ITERATIONS] [ROUNDS]
require "json"
require "mlx"

mx = MLX::Core
batch = (ARGV[0] || ENV.fetch("BATCH", 8)).to_i
iterations = (ARGV[1] || 20).to_i
rounds = (ARGV[2] || 3).to_i
python = ENV.fetch("PYTHON", "python3")

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def time_ms(mx, iterations, &fun)
  mx.eval(fun.call)
  median(Array.new(iterations) do
    t = clock
    mx.eval(fun.call)
    clock - t
  end) * 1e3
end

shapes = {
  "conv1 3->16 64x64" => [[batch, 64, 64, 3], [16, 3, 3, 3]],
  "conv2 16->32 32x32" => [[batch, 32, 32, 16], [32, 3, 3, 16]]
}
inputs = shapes.transform_values do |xs, ws|
  x = mx.random_uniform(xs, -1.0, 1.0, mx.float32)
  w = mx.random_uniform(ws, -1.0, 1.0, mx.float32)
  mx.eval(x, w)
  [x, w]
end
grad = mx.grad(->(a, b) { mx.sum(mx.conv2d(a, b, 1, 1)) }, argnums: [0, 1])

ruby = Hash.new { |h, k| h[k] = [] }
py = Hash.new { |h, k| h[k] = [] }
script = File.join(__dir__, "conv_mlx.py")
rounds.times do
  inputs.each do |name, (x, w)|
    ruby["#{name} fwd"] << time_ms(mx, iterations) { mx.conv2d(x, w, 1, 1) }
    ruby["#{name} fwd+bwd"] << time_ms(mx, iterations) { grad.call(x, w) }
  end
  peer = begin
    JSON.parse(IO.popen([python, script, batch.to_s, iterations.to_s], err: File::NULL, &:read))
  rescue StandardError
    {}
  end
  peer.each { |k, v| py[k] << v }
end

puts format("conv2d NHWC float32, padding 1, batch %d (median of %d calls x %d rounds), threads=%d", batch,
            iterations, rounds, mx.device_info(mx.cpu)["threads"])
puts format("  %-30s %10s %14s %14s", "workload", "ruby ms", "python mlx ms", "python/ruby")
ruby.each do |name, times|
  r = median(times)
  p = py[name].empty? ? nil : median(py[name])
  puts format("  %-30s %10.3f %14s %14s", name, r, p ? format("%.3f", p) : "n/a", p ? format("%.2fx", p / r) : "n/a")
end
