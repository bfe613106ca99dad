"""Python MLX side of bench/nanogpt.rb: the same model, data and training
step on the CPU. Prints one JSON line {"average_ms", "iterations",
"warmup", "loss"}."""
import json
import os
import random
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim

mx.set_default_device(mx.cpu)
B = int(os.environ.get("BATCH", 4))
S = int(os.environ.get("SEQUENCE_LENGTH", 32))
D = int(os.environ.get("DIMENSIONS", 128))
H = int(os.environ.get("HEADS", 4))
L = int(os.environ.get("LAYERS", 2))
ITER = int(os.environ.get("ITERATIONS", 50))
WARM = int(os.environ.get("WARMUP", 10))

chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + \
    [str(d) for d in range(10)] + [" ", ".", "\n"]
corpus = [chars[((i * 7919) ^ (i >> 3)) % len(chars)] for i in range(20000)]
vocab = len(chars)
ids = [chars.index(c) for c in corpus]
train = ids[: int(len(ids) * 0.9)]


class NanoGpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, D)
        self.pos_embedding = nn.Embedding(S, D)
        self.dropout = nn.Dropout(0.0)
        self.blocks = [nn.TransformerEncoderLayer(D, H, mlp_dims=4 * D, norm_first=True) for _ in range(L)]
        self.ln = nn.LayerNorm(D)
        self.head = nn.Linear(D, vocab)
        self._mask = nn.MultiHeadAttention.create_additive_causal_mask(S)

    def __call__(self, x):
        h = self.dropout(self.token_embedding(x) + self.pos_embedding(mx.arange(x.shape[1])))
        for b in self.blocks:
            h = b(h, self._mask)
        return self.head(self.ln(h))


mx.random.seed(0)
rng = random.Random(0)
model = NanoGpt()
optimizer = optim.AdamW(learning_rate=1e-3)


def loss_fn(x, y):
    logits = model(x)
    return nn.losses.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction="mean")


loss_and_grad = nn.value_and_grad(model, loss_fn)


def step():
    starts = [rng.randrange(len(train) - S - 1) for _ in range(B)]
    x = mx.array([train[s:s + S] for s in starts], dtype=mx.int32)
    y = mx.array([train[s + 1:s + 1 + S] for s in starts], dtype=mx.int32)
    loss, grads = loss_and_grad(x, y)
    optimizer.update(model, grads)
    mx.eval(loss, model.parameters(), optimizer.state)
    return loss


for _ in range(WARM):
    step()
t = time.perf_counter()
for _ in range(ITER):
    loss = step()
avg = (time.perf_counter() - t) * 1e3 / ITER
print(json.dumps({"average_ms": avg, "iterations": ITER, "warmup": WARM, "loss": loss.item()}))
