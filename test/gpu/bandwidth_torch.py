# PyTorch's elementwise add of two float32 arrays of 256M elements on the
# same card as test/gpu/bandwidth.rb, timed the same way (wall clock
# around the op and a synchronize, median of 20 after warm-up).
import time

import torch

n = 256 * 1024 * 1024
x = torch.full((n,), 1.5, dtype=torch.float32, device="cuda")
y = torch.full((n,), 2.25, dtype=torch.float32, device="cuda")
times = []
for i in range(23):
    t0 = time.perf_counter()
    z = x + y
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    if i >= 3:
        times.append(dt)
    del z
times.sort()
med = times[len(times) // 2]
print(f"torch add 256M float32: median {med * 1e3:.3f} ms, {3.0 * n * 4 / med / 1e9:.0f} GB/s ({torch.cuda.get_device_name()})")
