# frozen_string_literal: true

require "test_helper"

# MLX::Core::Tree: the flatten/unflatten the transforms use.
class TreeTest < Minitest::Test
  T = MLX::Core::Tree

  def setup
    @a = MX.array([1.0])
    @b = MX.array([2.0])
    @c = MX.array([3.0])
  end

  def test_flatten_order_and_constants
    tree = [@a, { "x" => @b, :y => [1, "s", nil] }, [[@c]], 2.5]
    flat = T.flatten(tree)
    assert_equal 3, flat.size
    assert(flat.zip([@a, @b, @c]).all? { |p, q| p.equal?(q) })
    assert_equal [], T.flatten(3)
    assert_equal [@a], T.flatten(@a)
    assert_equal 3, T.count(tree)
  end

  def test_unflatten_keeps_structure_and_constants
    tree = [@a, { "x" => @b, :y => [1, "s"] }, [[@c]], 2.5]
    n = [MX.array([10.0]), MX.array([20.0]), MX.array([30.0])]
    out = T.unflatten(tree, n)
    assert out[0].equal?(n[0])
    assert out[1]["x"].equal?(n[1])
    assert_equal [1, "s"], out[1][:y]
    assert out[2][0][0].equal?(n[2])
    assert_equal 2.5, out[3]
    assert_equal :y, out[1].keys[1]
    filled = T.unflatten(tree, n, fill: nil)
    assert_nil filled[3]
    assert_equal [nil, nil], filled[1][:y]
    assert T.unflatten(@a, [@b]).equal?(@b)
  end

  def test_unflatten_counts
    assert_raises(ArgumentError) { T.unflatten([@a, @b], [@c]) }
    assert_raises(ArgumentError) { T.unflatten([@a], [@b, @c]) }
    tree, stop = T.unflatten_from([@a, 1], [@a, @b, @c], 1)
    assert tree[0].equal?(@b)
    assert_equal 2, stop
  end

  def test_map
    out = T.map({ "p" => [@a, 3] }) { |x| x * 2 }
    assert_equal [2.0], out["p"][0].to_a
    assert_equal 3, out["p"][1]
  end

  def test_prefix_values
    tree = [@a, { "x" => @b, "y" => [@c, 1] }]
    assert_equal [0, 0, 0], T.prefix_values(0, tree, "axes")
    assert_equal [nil, 1, 1], T.prefix_values([nil, 1], tree, "axes")
    assert_equal [2, 0, 1], T.prefix_values([2, { "x" => 0, y: 1 }], tree, "axes") # String/Symbol keys match
    assert_raises(ArgumentError) { T.prefix_values([0], tree, "axes") }
    assert_raises(ArgumentError) { T.prefix_values([0, { "x" => 0 }], tree, "axes") }
    assert_raises(ArgumentError) { T.prefix_values({ "x" => 0 }, [@a], "axes") }
  end

  def test_deep_trees
    deep = @a
    200.times { deep = [deep] }
    assert_equal 1, T.flatten(deep).size
    back = T.unflatten(deep, [@b])
    200.times { back = back[0] }
    assert back.equal?(@b)
  end
end
