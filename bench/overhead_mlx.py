"""Python MLX side of bench/overhead.rb. Prints {"us_per_op": ...}."""
import json
import sys
import time

import mlx.core as mx

ops, rounds = int(sys.argv[1]), int(sys.argv[2])
x = mx.ones([4])
one = mx.ones([4])
best = float("inf")
for _ in range(rounds):
    y = x
    t = time.perf_counter()
    for _ in range(ops):
        y = y + one
    mx.eval(y)
    best = min(best, time.perf_counter() - t)
print(json.dumps({"us_per_op": best / ops * 1e6}))
