"""PyTorch side of bench/models/mlp.rb (same model, sizes and timing;
inference under torch.inference_mode)."""
import torch
import torch.nn as nn

from common import config, emit, measure
from torch_common import maybe_compile, select_device, sync, uniform

cfg = config()
device = select_device(cfg)
d = cfg.dims
model = nn.Sequential(nn.Linear(4 * d, 4 * d), nn.ReLU(), nn.Linear(4 * d, 4 * d), nn.ReLU(),
                      nn.Linear(4 * d, d)).to(device).eval()
x = uniform((cfg.batch, 4 * d), device)
forward = maybe_compile(cfg, model)


def iteration():
    with torch.inference_mode():
        out = forward(x)
    sync(device)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device.type, threads=torch.get_num_threads())
