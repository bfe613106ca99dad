"""Python MLX side of bench/models/mlp.rb (same model and timing)."""
import mlx.core as mx
import mlx.nn as nn

from common import config, emit, measure
from mlx_common import select_device, uniform


class Mlp(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = [nn.Linear(4 * dims, 4 * dims), nn.Linear(4 * dims, 4 * dims), nn.Linear(4 * dims, dims)]

    def __call__(self, x):
        x = nn.relu(self.layers[0](x))
        x = nn.relu(self.layers[1](x))
        return self.layers[2](x)


cfg = config()
device = select_device(cfg)
mx.random.seed(0)
model = Mlp(cfg.dims)
x = uniform((cfg.batch, 4 * cfg.dims))
mx.eval(x, model.parameters())
forward = mx.compile(model) if cfg.compile else model


def iteration():
    out = forward(x)
    mx.eval(out)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device)
