"""PyTorch side of bench/models/transformer.rb: nn.Transformer with the same
sizes, pre-norm (norm_first, as MLX's default), ReLU, dropout 0, batch
first, float causal masks; inference under torch.inference_mode. Torch's
attention and feed-forward projections carry biases (MLX's attention
projections do not): a negligible amount of extra work."""
import torch
import torch.nn as nn

from common import config, emit, measure
from torch_common import maybe_compile, select_device, sync, uniform

cfg = config()
device = select_device(cfg)
model = nn.Transformer(d_model=cfg.dims, nhead=cfg.heads, num_encoder_layers=cfg.layers,
                       num_decoder_layers=cfg.layers, dim_feedforward=4 * cfg.dims, dropout=0.0,
                       batch_first=True, norm_first=True).to(device).eval()
src = uniform((cfg.batch, cfg.seq, cfg.dims), device)
tgt = uniform((cfg.batch, cfg.target_seq, cfg.dims), device)
src_mask = nn.Transformer.generate_square_subsequent_mask(cfg.seq, device=device)
tgt_mask = nn.Transformer.generate_square_subsequent_mask(cfg.target_seq, device=device)
forward = maybe_compile(cfg, lambda s, t, sm, tm: model(s, t, src_mask=sm, tgt_mask=tm))


def iteration():
    with torch.inference_mode():
        out = forward(src, tgt, src_mask, tgt_mask)
    sync(device)
    return out


avg, out = measure(cfg, iteration)
emit(cfg, avg, out.shape, device.type, threads=torch.get_num_threads())
