# frozen_string_literal: true

require "test_helper"

# The gradients of a two-layer MLP with a softmax cross-entropy loss, written
# with MLX::Core ops, against Python MLX's for the same weights and inputs
# (test/fixtures/mlp.safetensors, written by test/fixtures/generate_mlp.py):
# value_and_grad, and per-example gradients through vmap of grad. Agreement
# to 1e-4 relative.
class MlpGradTest < Minitest::Test
  FIXTURE = File.expand_path("../../fixtures/mlp.safetensors", __dir__)
  NAMES = %w[w1 b1 w2 b2].freeze
  RTOL = 1e-4

  def setup
    @f = MX.load(FIXTURE)
  end

  def loss_fn(w1, b1, w2, b2, x, y)
    h = MX.tanh(MX.matmul(x, w1) + b1)
    logits = MX.matmul(h, w2) + b2
    MX.mean(MX.logsumexp(logits, -1) - MX.sum(logits * y, -1))
  end

  # |got - want| <= RTOL * max|want| elementwise: relative to the array's
  # scale, so near-zero entries do not demand absolute agreement below it.
  def assert_rel_close(want, got, label)
    assert_equal want.shape, got.shape, label
    w = want.to_a.flatten
    g = got.to_a.flatten
    scale = w.map(&:abs).max
    w.zip(g).each_with_index do |(a, b), i|
      assert_in_delta a, b, RTOL * scale, "#{label}[#{i}]"
    end
  end

  def test_value_and_grad_matches_python_mlx
    fun = method(:loss_fn).to_proc
    loss, grads = MX.value_and_grad(fun, [0, 1, 2, 3]).call(*NAMES.map { |n| @f[n] }, @f["x"], @f["y"])
    assert_in_delta @f["loss"].item, loss.item, RTOL * @f["loss"].item.abs
    NAMES.each_with_index { |n, i| assert_rel_close(@f["grad_#{n}"], grads[i], "grad #{n}") }
  end

  def test_per_example_gradients_through_vmap_match_python_mlx
    example = lambda do |w1, b1, w2, b2, xi, yi|
      loss_fn(w1, b1, w2, b2, MX.expand_dims(xi, 0), MX.expand_dims(yi, 0))
    end
    per_example = MX.vmap(MX.grad(example, [0, 1, 2, 3]), [nil, nil, nil, nil, 0, 0])
    grads = per_example.call(*NAMES.map { |n| @f[n] }, @f["x"], @f["y"])
    NAMES.each_with_index do |n, i|
      assert_equal [8] + @f[n].shape, grads[i].shape
      assert_rel_close(@f["per_example_#{n}"], grads[i], "per-example #{n}")
    end
  end
end
