"""Python MLX side of bench/conv.rb: the same convolutions on the CPU.
Prints one JSON object {workload: median ms}.
    python3 bench/conv_mlx.py BATCH ITERATIONS"""
import json
import sys
import time

import mlx.core as mx

batch = int(sys.argv[1])
iterations = int(sys.argv[2])
mx.set_default_device(mx.cpu)
mx.random.seed(0)

SHAPES = {
    "conv1 3->16 64x64": ([batch, 64, 64, 3], [16, 3, 3, 3]),
    "conv2 16->32 32x32": ([batch, 32, 32, 16], [32, 3, 3, 16]),
}


def time_ms(fun):
    mx.eval(fun())
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        mx.eval(fun())
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1e3


out = {}
for name, (xs, ws) in SHAPES.items():
    x = mx.random.uniform(-1.0, 1.0, xs)
    w = mx.random.uniform(-1.0, 1.0, ws)
    mx.eval(x, w)
    out[name + " fwd"] = time_ms(lambda: mx.conv2d(x, w, padding=1))
    grad = mx.grad(lambda a, b: mx.sum(mx.conv2d(a, b, padding=1)), argnums=(0, 1))
    out[name + " fwd+bwd"] = time_ms(lambda: grad(x, w))
print(json.dumps(out))
