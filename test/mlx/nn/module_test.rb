# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# MLX::NN::Module: attribute tracking, traversal, updates, freezing, modes,
# dtypes and weight files (semantics of Python MLX's nn.Module).
class ModuleTest < Minitest::Test
  MX = MLX::Core
  class Leaf < MLX::NN::Module
    def initialize(n)
      super()
      self.weight = MX.ones([n, 2])
      self.bias = MX.zeros([n])
      self.scale = 2.0
      self._cache = MX.zeros([1])
    end

    def call(x) = MX.matmul(x, MX.transpose(weight)) + bias
  end

  class Net < MLX::NN::Module
    def initialize
      super()
      self.layers = [Leaf.new(3), Leaf.new(2)]
      self.head = Leaf.new(1)
      self.extra = { "w" => MX.ones([2]), "list" => [MX.zeros([1])] }
    end
  end

  def test_attributes
    l = Leaf.new(3)
    assert_equal %w[weight bias _cache], l.state.keys
    assert_equal 2.0, l.scale
    refute l.state.key?("scale")
    assert l.respond_to?(:weight)
    assert_raises(NoMethodError) { l.nonexistent }
    l.scale = MX.array(3.0)
    assert l.state.key?("scale")
    assert_equal 3.0, l.scale.item
  end

  def test_parameters_children_modules
    net = Net.new
    params = net.parameters
    assert_equal %w[layers head extra], params.keys
    assert_equal %w[weight bias], params["layers"][0].keys
    flat = MLX::Utils.tree_flatten(params).map(&:first)
    assert_equal %w[layers.0.weight layers.0.bias layers.1.weight layers.1.bias head.weight head.bias extra.w
                    extra.list.0], flat
    children = net.children
    assert_equal %w[layers head extra], children.keys
    assert_kind_of Leaf, children["head"]
    assert_equal({ "w" => {}, "list" => [{}] }, children["extra"])
    assert_equal ["", "head", "layers.1", "layers.0"], net.named_modules.map(&:first)
    assert_equal 4, net.modules.size
    assert_equal 3, MLX::Utils.tree_flatten(net.leaf_modules).size
  end

  def test_update_and_strictness
    net = Net.new
    net.update({ "head" => { "weight" => MX.full([1, 2], 5.0) } })
    assert_equal [[5.0, 5.0]], net.head.weight.to_a
    net.update({ "layers" => [{ "bias" => MX.full([3], 1.0) }] })
    assert_equal [1.0, 1.0, 1.0], net.layers[0].bias.to_a
    assert_raises(ArgumentError) { net.update({ "nope" => MX.zeros([1]) }) }
    assert_raises(ArgumentError) { net.update({ "head" => { "weight" => 3 } }) }
    net.update({ "nope" => MX.zeros([1]) }, strict: false)
    other = Leaf.new(1)
    net.update_modules({ "head" => other })
    assert_same other, net.head
    assert_raises(ArgumentError) { net.update_modules({ "missing" => other }) }
  end

  def test_apply_and_set_dtype
    net = Net.new
    net.apply { |x| x * 2.0 }
    assert_equal 2.0, net.head.weight.to_a[0][0]
    net.set_dtype(:float16)
    assert_equal :float16, net.layers[1].weight.dtype.name
    assert_equal :float16, net.extra["w"].dtype.name
  end

  def test_freeze_and_unfreeze
    net = Net.new
    net.freeze
    assert_empty MLX::Utils.tree_flatten(net.trainable_parameters)
    net.unfreeze
    assert_equal 8, MLX::Utils.tree_flatten(net.trainable_parameters).size
    net.head.freeze(keys: "bias")
    refute_includes MLX::Utils.tree_flatten(net.trainable_parameters).map(&:first), "head.bias"
    assert_includes MLX::Utils.tree_flatten(net.trainable_parameters).map(&:first), "head.weight"
    net.freeze(recurse: false)
    paths = MLX::Utils.tree_flatten(net.trainable_parameters).map(&:first)
    assert_equal %w[layers.0.weight layers.0.bias layers.1.weight layers.1.bias head.weight], paths
    assert_raises(KeyError) { net.freeze(keys: ["nope"], strict: true) }
  end

  def test_train_eval
    net = Net.new
    assert net.training
    net.eval
    refute net.layers[1].training
    net.train
    assert net.head.training
  end

  def test_weights_round_trip
    net = Net.new
    net.apply { |x| x + 1.5 }
    Dir.mktmpdir do |dir|
      %w[w.safetensors w.npz].each do |name|
        path = File.join(dir, name)
        net.save_weights(path)
        fresh = Net.new
        fresh.load_weights(path)
        assert_equal net.head.weight.to_a, fresh.head.weight.to_a, name
        assert_equal net.extra["list"][0].to_a, fresh.extra["list"][0].to_a, name
      end
      assert_raises(ArgumentError) { net.save_weights(File.join(dir, "w.bin")) }
    end
    fresh = Net.new
    assert_raises(ArgumentError) { fresh.load_weights([["head.weight", MX.zeros([1, 2])]]) }
    assert_raises(ArgumentError) do
      fresh.load_weights(MLX::Utils.tree_flatten(net.parameters).map { |k, v| k == "head.bias" ? [k, MX.zeros([4])] : [k, v] })
    end
    fresh.load_weights([["head.weight", MX.full([1, 2], 7.0)]], strict: false)
    assert_equal [[7.0, 7.0]], fresh.head.weight.to_a
  end

  def test_call
    assert_raises(NotImplementedError) { MLX::NN::Module.new.call(1) }
    l = Leaf.new(2)
    assert_equal [[3.0, 3.0]], l.call(MX.array([[1.0, 2.0]])).to_a
    assert_equal [[3.0, 3.0]], l.(MX.array([[1.0, 2.0]])).to_a
  end
end
