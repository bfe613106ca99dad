"""Python MLX side of bench/sdpa.rb: times mx.fast ops on the CPU for the
same shapes and prints one JSON object of median milliseconds.
   python3 bench/sdpa_mlx.py ITERATIONS"""
import json
import sys
import time

import mlx.core as mx

mx.set_default_device(mx.cpu)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def median_ms(fun):
    mx.eval(fun())  # warm-up
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        mx.eval(fun())
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3


B, H, L, D = 8, 8, 128, 64
q = mx.random.normal((B, H, L, D))
k = mx.random.normal((B, H, L, D))
v = mx.random.normal((B, H, L, D))
x = mx.random.normal((8, 128, 512))
w = mx.random.normal((512,))
b = mx.random.normal((512,))
mx.eval(q, k, v, x, w, b)
scale = D**-0.5
out = {
    "sdpa": median_ms(lambda: mx.fast.scaled_dot_product_attention(q, k, v, scale=scale)),
    "sdpa causal": median_ms(lambda: mx.fast.scaled_dot_product_attention(q, k, v, scale=scale, mask="causal")),
    "rms_norm": median_ms(lambda: mx.fast.rms_norm(x, w, 1e-5)),
    "layer_norm": median_ms(lambda: mx.fast.layer_norm(x, w, b, 1e-5)),
}
print(json.dumps(out))
