"""PyTorch helpers for bench/models/*_torch.py: device choice (CUDA when a
GPU is asked for and present, else the CPU), float32 uniform [-1, 1]
inputs, and a synchronize that makes a timed iteration include the work.
TORCH_THREADS=n sets torch's intra-op threads (default: torch's own choice,
one per core): with two threads on a busy two-core machine, torch's OpenMP
barriers make small iterations 100x slower, one thread avoids that."""
import os

import torch

from common import wants_gpu


def select_device(cfg):
    torch.manual_seed(0)
    threads = os.environ.get("TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    if wants_gpu(cfg) and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def uniform(shape, device):
    return torch.rand(shape, dtype=torch.float32, device=device) * 2.0 - 1.0


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def maybe_compile(cfg, fn):
    return torch.compile(fn) if cfg.compile else fn
