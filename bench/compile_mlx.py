"""Python MLX side of bench/compile.rb: the same chains, plain and under
mx.compile, on the CPU. Prints one JSON object
{chain: {"plain": median ms, "compiled": median ms}}."""
import json
import sys
import time

import mlx.core as mx

size = int(sys.argv[1])
iterations = int(sys.argv[2])
mx.set_default_device(mx.cpu)
x = mx.random.uniform(-3.0, 3.0, (size,), dtype=mx.float32)
mx.eval(x)

chains = {
    "gelu x*x*x": lambda v: 0.5 * v * (1 + mx.tanh(0.7978845608 * (v + 0.044715 * v * v * v))),
    "gelu power(x, 3)": lambda v: 0.5 * v * (1 + mx.tanh(0.7978845608 * (v + 0.044715 * mx.power(v, 3)))),
}


def time_ms(fun):
    mx.eval(fun(x))
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        mx.eval(fun(x))
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1e3


out = {name: {"plain": time_ms(f), "compiled": time_ms(mx.compile(f))} for name, f in chains.items()}
print(json.dumps(out))
