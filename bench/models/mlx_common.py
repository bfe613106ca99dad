"""Python MLX helpers for bench/models/*_mlx.py: device choice (the GPU when
asked for and present, else the CPU) and float32 uniform [-1, 1] inputs."""
import mlx.core as mx

from common import wants_gpu


def select_device(cfg):
    if wants_gpu(cfg) and mx.is_available(mx.gpu):
        mx.set_default_device(mx.gpu)
        return "gpu"
    mx.set_default_device(mx.cpu)
    return "cpu"


def uniform(shape):
    return mx.random.uniform(-1.0, 1.0, shape, dtype=mx.float32)
