# karpathy_gpt2 benchmark: one training step of a character-level GPT.
# Token Embedding(vocab, D) + position Embedding(S, D), Dropout(0),
# L x TransformerEncoderLayer(D, H, mlp_dims: 4D, dropout 0, norm_first) with
# an additive causal mask, LayerNorm, Linear(D -> vocab); loss = mean
# cross-entropy of next-character prediction; NN.value_and_grad, AdamW(1e-3)
# update, eval of the loss (with the parameters and optimizer state).
# Batches of B random windows of length S from the training 90% of a
# generated pseudo-English corpus (harness.rb, MLXBench::Corpus; the same
# text and windows as karpathy_gpt2_mlx.py and karpathy_gpt2_torch.py).
# The compiled variant compiles the whole step with the model and
# optimizer state as compile inputs and outputs.
#   ruby -Ilib bench/models/karpathy_gpt2.rb
require_relative "harness"

module MLXBench
  class KarpathyGpt2 < NN::Module
    def initialize(vocab, seq, dims, heads, layers)
      super()
      self.token_embedding = NN::Embedding.new(vocab, dims)
      self.position_embedding = NN::Embedding.new(seq, dims)
      self.dropout = NN::Dropout.new(0.0)
      self.blocks = Array.new(layers) do
        NN::TransformerEncoderLayer.new(dims, heads, mlp_dims: 4 * dims, dropout: 0.0, norm_first: true)
      end
      self.norm = NN::LayerNorm.new(dims)
      self.head = NN::Linear.new(dims, vocab)
      @mask = NN::MultiHeadAttention.create_additive_causal_mask(seq)
    end

    def call(ids)
      positions = MX.arange(ids.shape[1])
      h = dropout.call(token_embedding.call(ids) + position_embedding.call(positions))
      blocks.each { |block| h = block.call(h, @mask) }
      head.call(norm.call(h))
    end
  end
end

MLXBench.run("karpathy_gpt2", "char-level GPT training step (value_and_grad + AdamW)") do |cfg, compiled|
  mx = MLXBench::MX
  nn = MLXBench::NN
  vocab, train, _validation = MLXBench::Corpus.dataset
  batches = MLXBench::Corpus::Batches.new(train, cfg.batch, cfg.seq)
  model = MLXBench::KarpathyGpt2.new(vocab, cfg.seq, cfg.dims, cfg.heads, cfg.layers)
  optimizer = MLX::Optimizers::AdamW.new(learning_rate: 1e-3)
  mx.eval(model.parameters)
  loss_and_grad = nn.value_and_grad(model, lambda do |x, y|
    logits = model.call(x)
    nn.cross_entropy(mx.reshape(logits, [-1, vocab]), mx.reshape(y, [-1]), reduction: "mean")
  end)
  step = lambda do |x, y|
    loss, grads = loss_and_grad.call(x, y)
    optimizer.update(model, grads)
    loss
  end
  if compiled
    state = [model.state, optimizer.state]
    step = mx.compile(step, state, state)
  end
  lambda do
    xs, ys = batches.next_batch
    loss = step.call(mx.array(xs, mx.int32), mx.array(ys, mx.int32))
    mx.eval(loss, model.parameters, optimizer.state)
    [loss, { "loss" => loss.item }]
  end
end
