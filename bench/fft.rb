# FFT benchmark: batched transforms through the Ruby API versus Python MLX
# on the CPU in the same run. The acceptance case is a 512-point batched FFT:
# complex64 [4096, 512] fft along the last axis and rfft of float32
# [4096, 512]; the others (inverse transforms, a strided axis, 2-D, and a
# prime length through Bluestein) are printed beside. Python MLX runs as a
# child process (bench/fft_mlx.py) that times the same case right after
# Ruby, round after round, so load on the machine hits both alike. Prints
# the median per-call time of each and python_ms / ruby_ms (> 1: Ruby is
# faster).
#   ruby -Ilib bench/fft.rb [ROWS] [N] [ROUNDS] [REPS]
require "json"
require "mlx"

mx = MLX::Core
rows = (ARGV[0] || 4096).to_i
n = (ARGV[1] || 512).to_i
rounds = (ARGV[2] || 7).to_i
reps = (ARGV[3] || 3).to_i
python = ENV.fetch("PYTHON", "python3")

def median(values) = values.sort[values.size / 2]

def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

c = mx.astype(mx.random_uniform([rows, n], -1.0, 1.0) + mx.multiply(mx.random_uniform([rows, n], -1.0, 1.0),
                                                                      mx.array(Complex(0, 1))), mx.complex64)
r = mx.random_uniform([rows, n], -1.0, 1.0)
h = mx.contiguous(c[0...rows, 0...(n / 2 + 1)])
p = mx.astype(mx.random_uniform([rows / 4, 1031], -1.0, 1.0), mx.complex64)
mx.eval(c, r, h, p)

cases = {
  "fft" => -> { mx.fft(c) },
  "ifft" => -> { mx.ifft(c) },
  "rfft" => -> { mx.rfft(r) },
  "irfft" => -> { mx.irfft(h, n) },
  "fft_axis0" => -> { mx.fft(c, nil, 0) },
  "fft2" => -> { mx.fft2(c) },
  "fft_1031" => -> { mx.fft(p) }
}

peer = begin
  IO.popen([python, File.join(__dir__, "fft_mlx.py"), rows.to_s, n.to_s], "r+", err: File::NULL)
rescue StandardError
  nil
end

results = cases.to_h do |name, fun|
  mx.eval(fun.call) # warm-up: plans and buffers
  ours = []
  theirs = []
  peer&.puts("#{name} 1") && peer.gets # warm-up of the peer
  rounds.times do
    reps.times do
      t = clock
      mx.eval(fun.call)
      ours << (clock - t) * 1e3
    end
    next unless peer

    peer.puts("#{name} #{reps}")
    line = peer.gets
    theirs.concat(JSON.parse(line)) if line
  end
  [name, [median(ours), theirs.empty? ? nil : median(theirs)]]
end
peer&.close

puts format("fft benchmark: [%d, %d] (prime case [%d, 1031]), median of %d alternating rounds x %d calls, threads=%d",
            rows, n, rows / 4, rounds, reps, mx.device_info(mx.cpu)["threads"])
puts format("  %-10s %10s %14s %18s", "case", "ruby ms", "python mlx ms", "python/ruby")
results.each do |name, (ours, theirs)|
  puts format("  %-10s %10.2f %14s %18s", name, ours, theirs ? format("%.2f", theirs) : "n/a",
              theirs ? format("%.2fx", theirs / ours) : "n/a")
end
