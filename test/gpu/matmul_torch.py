# PyTorch's matmul on the same card as test/gpu/matmul_bench.rb, timed the
# same way (TF32 off for float32, as ours by default).
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
for n, dt in ((8192, torch.bfloat16), (4096, torch.float32)):
    a = torch.randn((n, n), device="cuda").to(dt)
    b = torch.randn((n, n), device="cuda").to(dt)
    times = []
    for i in range(13):
        t0 = time.perf_counter()
        c = a @ b
        torch.cuda.synchronize()
        d = time.perf_counter() - t0
        if i >= 3:
            times.append(d)
        del c
    times.sort()
    med = times[len(times) // 2]
    print(f"torch matmul {n}^3 {str(dt).split('.')[-1]}: median {med * 1e3:.3f} ms, {2.0 * n**3 / med / 1e12:.1f} TFLOP/s ({torch.cuda.get_device_name()})")
