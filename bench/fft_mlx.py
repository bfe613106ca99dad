"""Python MLX side of bench/fft.rb: builds the same inputs on the CPU, then
reads commands from stdin, one per line, "<case> <reps>", and answers each
with one line of JSON: the per-call milliseconds of reps evaluated calls.
bench/fft.rb alternates these rounds with its own, so machine load hits both
alike."""
import json
import sys
import time

import mlx.core as mx

mx.set_default_device(mx.cpu)
rows, n = int(sys.argv[1]), int(sys.argv[2])
c = (mx.random.normal((rows, n)) + 1j * mx.random.normal((rows, n))).astype(mx.complex64)
r = mx.random.normal((rows, n))
h = c[:, : n // 2 + 1]
p = (mx.random.normal((rows // 4, 1031)) + 1j * mx.random.normal((rows // 4, 1031))).astype(mx.complex64)
mx.eval(c, r, h, p)

CASES = {
    "fft": lambda: mx.fft.fft(c),
    "ifft": lambda: mx.fft.ifft(c),
    "rfft": lambda: mx.fft.rfft(r),
    "irfft": lambda: mx.fft.irfft(h, n=n),
    "fft_axis0": lambda: mx.fft.fft(c, axis=0),
    "fft2": lambda: mx.fft.fft2(c),
    "fft_1031": lambda: mx.fft.fft(p),
}

for line in sys.stdin:
    name, reps = line.split()
    fn = CASES[name]
    times = []
    for _ in range(int(reps)):
        t = time.perf_counter()
        mx.eval(fn())
        times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps(times), flush=True)
