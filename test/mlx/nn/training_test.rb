# frozen_string_literal: true

require "test_helper"

# End-to-end training with NN + Optimizers: the seed README's regressor
# (loss falls) and its nano GPT, whose compiled training step (model and
# optimizer state as compile inputs and outputs) gives the losses of the
# uncompiled one.
class TrainingTest < Minitest::Test
  MX = MLX::Core
  NN = MLX::NN

  class NanoGpt < MLX::NN::Module
    def initialize(vocab_size:, seq_len:, dims:, heads:, layers:)
      super()
      self.token_embedding = NN::Embedding.new(vocab_size, dims)
      self.pos_embedding = NN::Embedding.new(seq_len, dims)
      self.blocks = Array.new(layers) { NN::TransformerEncoderLayer.new(dims, heads, mlp_dims: dims * 4) }
      self.norm = NN::LayerNorm.new(dims)
      self.head = NN::Linear.new(dims, vocab_size)
      @causal_mask = NN::MultiHeadAttention.create_additive_causal_mask(seq_len)
    end

    def call(ids)
      positions = MX.arange(0, ids.shape[1], 1, MX.int32)
      hidden = MX.add(token_embedding.call(ids), pos_embedding.call(positions))
      blocks.each { |block| hidden = block.call(hidden, @causal_mask) }
      head.call(norm.call(hidden))
    end
  end

  def test_regressor_loss_falls
    MX.seed(0)
    model = NN::Linear.new(3, 1)
    optimizer = MLX::Optimizers::AdamW.new(learning_rate: 1e-1)
    lg = NN.value_and_grad(model, ->(x, y) { MX.mean(MX.square(model.call(x) - y)) })
    x = MX.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.0]])
    y = MX.array([[1.0], [0.0]])
    losses = 30.times.map do
      loss, grads = lg.call(x, y)
      optimizer.update(model, grads)
      MX.eval(loss, model.parameters, optimizer.state)
      loss.item
    end
    assert_operator losses.last, :<, losses.first * 0.1
  end

  def nano_losses(compiled, steps)
    MX.seed(3)
    vocab = 20
    seq = 8
    model = NanoGpt.new(vocab_size: vocab, seq_len: seq, dims: 32, heads: 4, layers: 2)
    optimizer = MLX::Optimizers::AdamW.new(learning_rate: 1e-2)
    lg = NN.value_and_grad(model, lambda do |ids, labels|
      logits = MX.reshape(model.call(ids), [-1, vocab])
      NN.cross_entropy(logits, MX.reshape(labels, [-1]), reduction: "mean")
    end)
    step = lambda do |ids, labels|
      loss, grads = lg.call(ids, labels)
      optimizer.update(model, grads)
      loss
    end
    state = [model.state, optimizer.state]
    step = MX.compile(step, state, state) if compiled
    steps.times.map do |i|
      MX.seed(100 + i)
      ids = MX.randint(0, vocab, [4, seq])
      labels = MX.concatenate([MX.slice(ids, [0, 1], [4, seq]), MX.zeros([4, 1], MX.int32)], 1)
      loss = step.call(ids, labels)
      MX.eval(loss, model.parameters, optimizer.state)
      loss.item
    end
  end

  def test_compiled_nano_gpt_step_matches_uncompiled
    plain = nano_losses(false, 6)
    compiled = nano_losses(true, 6)
    plain.zip(compiled).each_with_index do |(a, b), i|
      assert_in_delta a, b, 1e-5 * a.abs, "step #{i}"
    end
    assert_operator plain.last, :<, plain.first
  end
end
