# frozen_string_literal: true

require "test_helper"

# MLX::Utils tree functions; expected values follow Python's mlx.utils
# (printed once with mlx 0.32.4 for the same trees).
class UtilsTreeTest < Minitest::Test
  U = MLX::Utils

  def setup
    @tree = { "a" => [1, 2, { "b" => 3 }], "c" => 4 }
  end

  def test_tree_map
    assert_equal({ "a" => [2, 4, { "b" => 6 }], "c" => 8 }, U.tree_map(->(x) { x * 2 }, @tree))
    other = { "a" => [10, 20, { "b" => 30 }], "c" => 40 }
    assert_equal({ "a" => [11, 22, { "b" => 33 }], "c" => 44 }, U.tree_map(->(x, y) { x + y }, @tree, other))
    leaf = ->(x) { x.is_a?(::Array) }
    assert_equal({ "a" => 3, "c" => 4 }, U.tree_map(->(x) { x.is_a?(::Array) ? x.size : x }, @tree, is_leaf: leaf))
    arrays = U.tree_map(->(x) { MX.array(x) }, [1.0, [2.0]])
    assert_equal 2.0, arrays[1][0].item
  end

  def test_tree_map_with_path
    paths = U.tree_map_with_path(->(path, _x) { path }, @tree)
    assert_equal({ "a" => ["a.0", "a.1", { "b" => "a.2.b" }], "c" => "c" }, paths)
    assert_equal ["0", "1"], U.tree_map_with_path(->(p, _x) { p }, [5, 6])
    assert_equal ["m.0"], U.tree_map_with_path(->(p, _x) { p }, [5], path: "m")
  end

  def test_tree_flatten_and_unflatten
    flat = U.tree_flatten(@tree)
    assert_equal [["a.0", 1], ["a.1", 2], ["a.2.b", 3], ["c", 4]], flat
    assert_equal({ "a.0" => 1, "a.1" => 2, "a.2.b" => 3, "c" => 4 }, U.tree_flatten(@tree, destination: {}))
    assert_equal [["", 7]], U.tree_flatten(7)
    # Python's prefix rule: the first character of the built path is dropped.
    assert_equal [["x.0", 1]], U.tree_flatten([1], prefix: ".x")
    assert_raises(ArgumentError) { U.tree_flatten(@tree, destination: []) }
    assert_equal @tree.merge("a" => [1, 2, { "b" => 3 }]), U.tree_unflatten(flat)
    assert_equal @tree, U.tree_unflatten(U.tree_flatten(@tree, destination: {}))
    assert_equal 7, U.tree_unflatten([["", 7]])
    # Gaps in list indices become empty Hashes (Python: {}).
    assert_equal [{}, {}, 5], U.tree_unflatten([["2", 5]])
    assert_equal({ "layers" => [{ "w" => 1 }, { "w" => 2 }] },
                 U.tree_unflatten([["layers.0.w", 1], ["layers.1.w", 2]]))
  end

  def test_tree_reduce
    assert_equal 10, U.tree_reduce(->(acc, x) { acc + x }, @tree)
    assert_equal 110, U.tree_reduce(->(acc, x) { acc + x }, @tree, 100)
    assert_equal 3, U.tree_reduce(->(acc, x) { acc + x.size }, { "a" => [1, 2], "b" => [3] }, 0,
                                  is_leaf: ->(x) { x.is_a?(::Array) })
    assert_nil U.tree_reduce(->(acc, x) { acc + x }, [])
  end

  def test_tree_merge
    a = { "w" => 1, "sub" => [nil, 2] }
    b = { "b" => 3, "sub" => [4] }
    assert_equal({ "w" => 1, "sub" => [4, 2], "b" => 3 }, U.tree_merge(a, b))
    assert_equal [1, 2], U.tree_merge([], [1, 2])
    # Two empty subtrees stay one (a parameterless layer in a list), as upstream.
    assert_equal({ "layers" => [{ "w" => 1 }, {}, { "w" => 2 }] },
                 U.tree_merge({ "layers" => [{ "w" => 1 }, {}, {}] }, { "layers" => [{}, {}, { "w" => 2 }] }))
    assert_raises(ArgumentError) { U.tree_merge([], {}) }
    assert_raises(ArgumentError) { U.tree_merge({ "w" => 1 }, { "w" => 2 }) }
    assert_equal({ "w" => 3 }, U.tree_merge({ "w" => 1 }, { "w" => 2 }, merge_fn: ->(x, y) { x + y }))
  end
end
