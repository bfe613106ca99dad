"""PyTorch side of bench/models/karpathy_gpt2.rb: the same corpus, batches,
sizes and step (token + position embeddings, pre-norm TransformerEncoderLayers
with a float causal mask, LayerNorm, vocabulary head, mean cross-entropy,
backward, AdamW(1e-3, weight decay 0.01 as MLX's), loss.item()). Torch's
attention projections carry biases (MLX's do not). COMPILE=1 compiles the
loss (forward and, through AOTAutograd, backward) with torch.compile; the
optimizer step stays eager. Adds "loss" to the JSON line."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import config, emit, measure
from corpus import Batches, dataset
from torch_common import maybe_compile, select_device, sync


class KarpathyGpt2(nn.Module):
    def __init__(self, vocab, seq, dims, heads, layers):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dims)
        self.position_embedding = nn.Embedding(seq, dims)
        self.dropout = nn.Dropout(0.0)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(dims, heads, dim_feedforward=4 * dims, dropout=0.0, batch_first=True,
                                       norm_first=True) for _ in range(layers)])
        self.norm = nn.LayerNorm(dims)
        self.head = nn.Linear(dims, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq))

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        h = self.dropout(self.token_embedding(ids) + self.position_embedding(positions))
        for block in self.blocks:
            h = block(h, src_mask=self.mask, is_causal=True)
        return self.head(self.norm(h))


cfg = config()
device = select_device(cfg)
vocab, train, _validation = dataset()
batches = Batches(train, cfg.batch, cfg.seq)
model = KarpathyGpt2(vocab, cfg.seq, cfg.dims, cfg.heads, cfg.layers).to(device).train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)


def loss_fn(x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))


loss_fn_c = maybe_compile(cfg, loss_fn)


def iteration():
    xs, ys = batches.next()
    x = torch.tensor(xs, dtype=torch.long, device=device)
    y = torch.tensor(ys, dtype=torch.long, device=device)
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn_c(x, y)
    loss.backward()
    optimizer.step()
    sync(device)
    return loss.item()


avg, loss = measure(cfg, iteration)
emit(cfg, avg, [], device.type, loss=loss, vocab=vocab, threads=torch.get_num_threads())
