"""Python MLX side of bench/models/cnn.rb (same model and timing)."""
import mlx.core as mx
import mlx.nn as nn

from common import config, emit, measure
from mlx_common import select_device, uniform


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2, stride=2)
        self.fc = nn.Linear(32 * 16 * 16, 1024)

    def __call__(self, x):
        x = self.pool(nn.relu(self.conv1(x)))
        x = self.pool(nn.relu(self.conv2(x)))
        return self.fc(x.reshape(x.shape[0], 32 * 16 * 16))


cfg = config()
device = select_device(cfg)
mx.random.seed(0)
model = Cnn()
x = uniform((cfg.batch, 64, 64, 3))
mx.eval(x, model.parameters())
forward = mx.compile(model) if cfg.compile else model


def iteration():
    out = forward(x)
    mx.eval(out)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device)
