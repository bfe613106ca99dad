"""Configuration, timing and the JSON result line shared by the Python MLX
and PyTorch model scripts of bench/models/ (harness.rb is the Ruby side).
Environment as BENCHMARKS.md: DEVICE=gpu ITERATIONS=50 WARMUP=10 BATCH=8
SEQUENCE_LENGTH=128 TARGET_SEQUENCE_LENGTH=64 DIMENSIONS=256 HEADS=8 LAYERS=4;
COMPILE=1 selects the compiled variant."""
import json
import os
import time
from types import SimpleNamespace


def config():
    e = os.environ.get
    return SimpleNamespace(
        device=e("DEVICE", "gpu").lower(),
        iterations=int(e("ITERATIONS", 50)),
        warmup=int(e("WARMUP", 10)),
        batch=int(e("BATCH", 8)),
        seq=int(e("SEQUENCE_LENGTH", 128)),
        target_seq=int(e("TARGET_SEQUENCE_LENGTH", 64)),
        dims=int(e("DIMENSIONS", 256)),
        heads=int(e("HEADS", 8)),
        layers=int(e("LAYERS", 4)),
        compile=e("COMPILE", "0") == "1",
    )


def wants_gpu(cfg):
    if cfg.device not in ("cpu", "gpu", "metal", "cuda"):
        raise SystemExit(f"DEVICE must be cpu, gpu or metal, got {cfg.device!r}")
    return cfg.device != "cpu"


def measure(cfg, iteration):
    """WARMUP untimed calls, then ITERATIONS timed around the whole loop.
    Returns (mean ms per iteration, last output)."""
    out = None
    for _ in range(cfg.warmup):
        out = iteration()
    t = time.perf_counter()
    for _ in range(cfg.iterations):
        out = iteration()
    return (time.perf_counter() - t) * 1e3 / cfg.iterations, out


def emit(cfg, average_ms, output_shape, device, **extra):
    print(json.dumps({"average_ms": average_ms, "iterations": cfg.iterations, "warmup": cfg.warmup,
                      "output_shape": list(output_shape), "device": device, "compiled": cfg.compile, **extra}))
