"""NumPy side of bench/elementwise.rb: the same ops on the same sizes.
Prints one JSON object {op: median ms}."""
import json
import sys
import time

import numpy as np

size = int(sys.argv[1])
iterations = int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.uniform(0.5, 1.5, size).astype(np.float32)
b = rng.uniform(0.5, 1.5, size).astype(np.float32)

ops = {
    "add": lambda: a + b,
    "multiply": lambda: a * b,
    "divide": lambda: a / b,
    "maximum": lambda: np.maximum(a, b),
    "add_scalar": lambda: a + np.float32(1.0),
    "exp": lambda: np.exp(a),
    "sqrt": lambda: np.sqrt(a),
    "tanh": lambda: np.tanh(a),
    "sum": lambda: a.sum(),
}

out = {}
for name, op in ops.items():
    op()
    op()
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        op()
        times.append(time.perf_counter() - t)
    times.sort()
    out[name] = times[len(times) // 2] * 1e3
print(json.dumps(out))
