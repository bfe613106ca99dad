# fast ops benchmark: scaled_dot_product_attention at B=8, H=8, L=128,
# D=64 float32 (no mask and causal) and rms_norm / layer_norm on
# [8, 128, 512], through the Ruby API against Python MLX's mx.fast on the
# CPU (bench/sdpa_mlx.py). The two run alternately, ROUNDS times, in the
# same process tree on the same machine; each round reports the median of
# ITERATIONS calls (graph building plus evaluation, a warm-up call
# excluded), and the table gives the median over rounds and the ratio
# python_ms / ruby_ms (above 1: Ruby is faster).
#   ruby -Ilib bench/sdpa.rb [ROUNDS] [ITERATIONS]
require "json"
require "mlx"

mx = MLX::Core
rounds = (ARGV[0] || 5).to_i
iterations = (ARGV[1] || 20).to_i
python = ENV.fetch("PYTHON", "python3")
script = File.join(__dir__, "sdpa_mlx.py")

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def time_ms(mx, iterations, fun)
  mx.eval(fun.call)
  median(Array.new(iterations) do
    t = clock
    mx.eval(fun.call)
    clock - t
  end) * 1e3
end

b, h, l, d = 8, 8, 128, 64
q = mx.normal([b, h, l, d])
k = mx.normal([b, h, l, d])
v = mx.normal([b, h, l, d])
x = mx.normal([8, 128, 512])
w = mx.normal([512])
bias = mx.normal([512])
mx.eval(q, k, v, x, w, bias)
scale = d**-0.5
cases = {
  "sdpa" => -> { mx.scaled_dot_product_attention(q, k, v, scale) },
  "sdpa causal" => -> { mx.scaled_dot_product_attention(q, k, v, scale, "causal") },
  "rms_norm" => -> { mx.rms_norm(x, w, 1e-5) },
  "layer_norm" => -> { mx.layer_norm(x, w, bias, 1e-5) }
}

ruby_runs = Hash.new { |hash, key| hash[key] = [] }
python_runs = Hash.new { |hash, key| hash[key] = [] }
rounds.times do
  cases.each { |name, fun| ruby_runs[name] << time_ms(mx, iterations, fun) }
  peer = begin
    JSON.parse(IO.popen([python, script, iterations.to_s], err: File::NULL, &:read))
  rescue StandardError
    {}
  end
  peer.each { |name, ms| python_runs[name] << ms }
end

puts format("fast ops, float32, CPU (median of %d rounds x %d calls), threads=%d", rounds, iterations,
            mx.device_info(mx.cpu)["threads"])
puts format("  %-12s %-16s %10s %14s %8s", "op", "shape", "ruby ms", "python mlx ms", "ratio")
shapes = { "sdpa" => "8x8x128x64", "sdpa causal" => "8x8x128x64", "rms_norm" => "8x128x512",
           "layer_norm" => "8x128x512" }
cases.each_key do |name|
  r = median(ruby_runs[name])
  py = python_runs[name].empty? ? nil : median(python_runs[name])
  puts format("  %-12s %-16s %10.3f %14s %8s", name, shapes[name], r, py ? format("%.3f", py) : "n/a",
              py ? format("%.2fx", py / r) : "n/a")
end
