# compile benchmark: a GELU-like elementwise chain on a 16M-element float32
# array through the Ruby API, compiled (one fused generated kernel) versus
# uncompiled (one kernel and one intermediate array per op). Times graph
# building plus evaluation; the median of N calls, the first call (trace and
# kernel build) excluded. Checks both give the same numbers. Python MLX's
# mx.compile on the same chain is printed beside when python3 with mlx is
# available (bench/compile_mlx.py).
#   ruby -Ilib bench/compile.rb [ELEMENTS] [ITERATIONS]
require "json"
require "mlx"

mx = MLX::Core
size = (ARGV[0] || 16 * 1024 * 1024).to_i
iterations = (ARGV[1] || 20).to_i
python = ENV.fetch("PYTHON", "python3")

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def time_ms(mx, fun, x, iterations)
  mx.eval(fun.call(x)) # first call excluded: tracing and the kernel build
  median(Array.new(iterations) do
    t = clock
    mx.eval(fun.call(x))
    clock - t
  end) * 1e3
end

x = mx.random_uniform([size], -3.0, 3.0, mx.float32)
mx.eval(x)

chains = {
  "gelu x*x*x" => ->(v) { 0.5 * v * (1 + mx.tanh(0.7978845608 * (v + 0.044715 * v * v * v))) },
  "gelu power(x, 3)" => ->(v) { 0.5 * v * (1 + mx.tanh(0.7978845608 * (v + 0.044715 * mx.power(v, 3)))) }
}

results = chains.to_h do |name, fun|
  compiled = mx.compile(fun)
  equal = mx.array_equal(fun.call(x), compiled.call(x))
  [name, { plain: time_ms(mx, fun, x, iterations), compiled: time_ms(mx, compiled, x, iterations), equal: equal }]
end

script = File.join(__dir__, "compile_mlx.py")
peer = begin
  JSON.parse(IO.popen([python, script, size.to_s, iterations.to_s], err: File::NULL, &:read))
rescue StandardError
  {}
end

puts format("compile on %d float32 elements (median of %d, first call excluded), threads=%d", size, iterations,
            mx.device_info(mx.cpu)["threads"])
puts format("  %-17s %10s %10s %9s %7s %14s", "chain", "plain ms", "compiled", "speedup", "equal", "python mlx ms")
results.each do |name, r|
  py = peer[name]
  py_s = py ? format("%.2f/%.2f", py["plain"], py["compiled"]) : "n/a"
  puts format("  %-17s %10.2f %10.2f %8.2fx %7s %14s", name, r[:plain], r[:compiled], r[:plain] / r[:compiled],
              r[:equal], py_s)
end
puts "  (python mlx: plain/compiled)" unless peer.empty?
