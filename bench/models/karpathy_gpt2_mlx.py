"""Python MLX side of bench/models/karpathy_gpt2.rb: the same model, corpus,
batches, training step and timing. Adds "loss" (the last step's) to the JSON
line."""
import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim

from common import config, emit, measure
from corpus import Batches, dataset
from mlx_common import select_device


class KarpathyGpt2(nn.Module):
    def __init__(self, vocab, seq, dims, heads, layers):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dims)
        self.position_embedding = nn.Embedding(seq, dims)
        self.dropout = nn.Dropout(0.0)
        self.blocks = [nn.TransformerEncoderLayer(dims, heads, mlp_dims=4 * dims, dropout=0.0, norm_first=True)
                       for _ in range(layers)]
        self.norm = nn.LayerNorm(dims)
        self.head = nn.Linear(dims, vocab)
        self._mask = nn.MultiHeadAttention.create_additive_causal_mask(seq)

    def __call__(self, ids):
        positions = mx.arange(ids.shape[1])
        h = self.dropout(self.token_embedding(ids) + self.position_embedding(positions))
        for block in self.blocks:
            h = block(h, self._mask)
        return self.head(self.norm(h))


cfg = config()
device = select_device(cfg)
mx.random.seed(0)
vocab, train, _validation = dataset()
batches = Batches(train, cfg.batch, cfg.seq)
model = KarpathyGpt2(vocab, cfg.seq, cfg.dims, cfg.heads, cfg.layers)
optimizer = optim.AdamW(learning_rate=1e-3)
mx.eval(model.parameters())


def loss_fn(x, y):
    logits = model(x)
    return nn.losses.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction="mean")


loss_and_grad = nn.value_and_grad(model, loss_fn)


def step(x, y):
    loss, grads = loss_and_grad(x, y)
    optimizer.update(model, grads)
    return loss


if cfg.compile:
    state = [model.state, optimizer.state]
    step = mx.compile(step, inputs=state, outputs=state)


def iteration():
    xs, ys = batches.next()
    loss = step(mx.array(xs, dtype=mx.int32), mx.array(ys, dtype=mx.int32))
    mx.eval(loss, model.parameters(), optimizer.state)
    return loss


avg, loss = measure(cfg, iteration)
emit(cfg, avg, loss.shape, device, loss=loss.item(), vocab=vocab)
