# frozen_string_literal: true

require "test_helper"

# Sharded linear layers on the singleton group: a shard is the whole
# weight, so they compute what the layer they come from computes.
class DistributedLayersTest < Minitest::Test
  MX = MLX::Core
  NN = MLX::NN

  def setup
    MX.seed(0)
    @linear = NN::Linear.new(64, 16)
    @x = MX.random_uniform([2, 64], -1.0, 1.0)
  end

  def test_sharded_linears_match_the_source_layer
    want = @linear.call(@x)
    [NN.shard_linear(@linear, "all-to-sharded"), NN::ShardedToAllLinear.from_linear(@linear),
     NN::AllToShardedLinear.from_linear(@linear, segments: 2)].each do |layer|
      assert MX.array_equal(layer.call(@x), want), layer.class.name
    end
    q = NN::QuantizedLinear.from_linear(@linear)
    [NN.shard_linear(q, "sharded-to-all"), NN::QuantizedAllToShardedLinear.from_quantized_linear(q)].each do |layer|
      assert MX.allclose(layer.call(@x), q.call(@x)), layer.class.name
      # As upstream, unfreeze leaves the layer's own arrays frozen.
      layer.unfreeze
      assert_empty MLX::Utils.tree_flatten(layer.trainable_parameters)
    end
    assert_raises(ArgumentError) { NN.shard_linear(@linear, "sideways") }
  end

  def test_shard_inplace_and_gradients
    NN.shard_inplace(@linear, "all-to-sharded")
    assert_equal [16, 64], @linear.weight.shape
    g = MX.grad(->(y) { MX.sum(NN.sum_gradients(MX.init).call(y)) }).call(@x)
    assert MX.array_equal(g, MX.ones_like(@x))
    grads = { "w" => MX.ones([2]) }
    assert_same grads, NN.average_gradients(grads)
    assert NN::Utils.contains_array_leaf?({ "a" => [1, MX.ones([1])] })
    refute NN::Utils.contains_array_leaf?({ "a" => [1, 2] })
  end
end
