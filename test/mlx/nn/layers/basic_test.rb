# frozen_string_literal: true

require "test_helper"

# Linear, Bilinear, Sequential, Identity, Dropout: weights from a fixed seed
# and outputs against Python MLX (test/fixtures/nn.json).
class BasicLayersTest < Minitest::Test
  FIX = MLXTestHelper.fixture("nn")
  NN = MLX::NN

  def test_linear_bilinear_sequential_from_seed
    layers = FIX["cases"].find { |c| c["op"] == "_layers" }["layers"]
    x = decode_arg(FIX, FIX["cases"].find { |c| c["op"] == "relu" }["args"][0])
    x2 = decode_arg(FIX, layers["x2"])
    MX.seed(7)
    lin = NN::Linear.new(8, 5)
    lin_nb = NN::Linear.new(8, 5, bias: false)
    bil = NN::Bilinear.new(8, 4, 3)
    seq = NN::Sequential.new(NN::Linear.new(8, 6), NN::ReLU.new, NN::Linear.new(6, 2))
    assert_array_matches(resolve(FIX, layers["linear_weight"]), lin.weight, "weight", exact: true)
    assert_array_matches(resolve(FIX, layers["linear"]), lin.call(x), "linear")
    assert_array_matches(resolve(FIX, layers["linear_nobias"]), lin_nb.call(x), "linear without bias")
    assert_array_matches(resolve(FIX, layers["bilinear"]), bil.call(x, x2), "bilinear")
    assert_array_matches(resolve(FIX, layers["sequential"]), seq.call(x), "sequential")
    assert_equal %w[weight], lin_nb.parameters.keys
    assert_equal 4, MLX::Utils.tree_flatten(seq.parameters).size
  end

  def test_dropout
    d = NN::Dropout.new(0.5)
    x = MX.ones([1000])
    y = d.call(x)
    kept = MX.sum(MX.not_equal(y, 0)).item
    assert_in_delta 500, kept, 80
    assert MX.array_equal(MX.where(MX.not_equal(y, 0), y, 2.0), MX.full([1000], 2.0))
    d.eval
    assert_same x, d.call(x)
    assert_raises(ArgumentError) { NN::Dropout.new(1.0) }
    assert_same x, NN::Identity.new(3, a: 1).call(x, 5)
  end
end
