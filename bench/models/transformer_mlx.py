"""Python MLX side of bench/models/transformer.rb (same model and timing)."""
import mlx.core as mx
import mlx.nn as nn

from common import config, emit, measure
from mlx_common import select_device, uniform

cfg = config()
device = select_device(cfg)
mx.random.seed(0)
model = nn.Transformer(dims=cfg.dims, num_heads=cfg.heads, num_encoder_layers=cfg.layers,
                       num_decoder_layers=cfg.layers, mlp_dims=4 * cfg.dims, dropout=0.0)
src = uniform((cfg.batch, cfg.seq, cfg.dims))
tgt = uniform((cfg.batch, cfg.target_seq, cfg.dims))
src_mask = nn.MultiHeadAttention.create_additive_causal_mask(cfg.seq)
tgt_mask = nn.MultiHeadAttention.create_additive_causal_mask(cfg.target_seq)
mx.eval(src, tgt, src_mask, tgt_mask, model.parameters())


def forward(s, t, sm, tm):
    return model(s, t, sm, tm, None)


if cfg.compile:
    forward = mx.compile(forward)


def iteration():
    out = forward(src, tgt, src_mask, tgt_mask)
    mx.eval(out)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device)
