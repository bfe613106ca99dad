# transformer benchmark: NN::Transformer(dims: D, num_heads: H,
# num_encoder_layers: L, num_decoder_layers: L, mlp_dims: 4D, dropout: 0)
# forward on src [B,S,D] and tgt [B,T,D] with additive causal masks (memory
# mask nil); eval of the output [B,T,D]. Ruby vs Python MLX
# (transformer_mlx.py) vs PyTorch (transformer_torch.py), plain and
# compiled; see harness.rb for the environment.
#   ruby -Ilib bench/models/transformer.rb
require_relative "harness"

MLXBench.run("transformer", "Transformer encoder-decoder forward, causal masks") do |cfg, compiled|
  mx = MLXBench::MX
  nn = MLXBench::NN
  model = nn::Transformer.new(dims: cfg.dims, num_heads: cfg.heads, num_encoder_layers: cfg.layers,
                              num_decoder_layers: cfg.layers, mlp_dims: 4 * cfg.dims, dropout: 0.0)
  src = MLXBench.uniform([cfg.batch, cfg.seq, cfg.dims])
  tgt = MLXBench.uniform([cfg.batch, cfg.target_seq, cfg.dims])
  src_mask = nn::MultiHeadAttention.create_additive_causal_mask(cfg.seq)
  tgt_mask = nn::MultiHeadAttention.create_additive_causal_mask(cfg.target_seq)
  mx.eval(src, tgt, src_mask, tgt_mask, model.parameters)
  forward = ->(s, t, sm, tm) { model.call(s, t, sm, tm, nil) }
  forward = mx.compile(forward) if compiled
  lambda do
    out = forward.call(src, tgt, src_mask, tgt_mask)
    mx.eval(out)
    out
  end
end
