"""PyTorch side of bench/models/cnn.rb: the same layers in torch's NCHW
layout (input [B,3,64,64]); inference under torch.inference_mode."""
import torch
import torch.nn as nn

from common import config, emit, measure
from torch_common import maybe_compile, select_device, sync, uniform

cfg = config()
device = select_device(cfg)
model = nn.Sequential(
    nn.Conv2d(3, 16, 3, stride=1, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=2),
    nn.Flatten(), nn.Linear(32 * 16 * 16, 1024),
).to(device).eval()
x = uniform((cfg.batch, 3, 64, 64), device)
forward = maybe_compile(cfg, model)


def iteration():
    with torch.inference_mode():
        out = forward(x)
    sync(device)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device.type, threads=torch.get_num_threads())
