"""PyTorch side of bench/models/rnn.rb: nn.RNN(D, 2D, tanh, batch_first)
returning all hidden states [B,S,2D] (torch keeps two bias vectors where MLX
keeps one); inference under torch.inference_mode."""
import torch
import torch.nn as nn

from common import config, emit, measure
from torch_common import maybe_compile, select_device, sync, uniform

cfg = config()
device = select_device(cfg)
model = nn.RNN(cfg.dims, 2 * cfg.dims, nonlinearity="tanh", batch_first=True).to(device).eval()
x = uniform((cfg.batch, cfg.seq, cfg.dims), device)
forward = maybe_compile(cfg, lambda v: model(v)[0])


def iteration():
    with torch.inference_mode():
        out = forward(x)
    sync(device)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device.type, threads=torch.get_num_threads())
