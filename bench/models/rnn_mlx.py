"""Python MLX side of bench/models/rnn.rb (same model and timing)."""
import mlx.core as mx
import mlx.nn as nn

from common import config, emit, measure
from mlx_common import select_device, uniform

cfg = config()
device = select_device(cfg)
mx.random.seed(0)
model = nn.RNN(cfg.dims, 2 * cfg.dims)
x = uniform((cfg.batch, cfg.seq, cfg.dims))
mx.eval(x, model.parameters())
forward = mx.compile(model) if cfg.compile else model


def iteration():
    out = forward(x)
    mx.eval(out)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device)
