# frozen_string_literal: true

# A Ruby subset run under GC.stress (rake test:stress): a collection at every
# allocation shakes out objects the glue forgets to keep alive, handles
# freed twice or leaked on raise. Small arrays only: GC.stress is slow.
require "test_helper"

class GCStressTest < Minitest::Test
  def stressed
    GC.stress = true
    yield
  ensure
    GC.stress = false
  end

  def test_conversions_and_reads
    stressed do
      a = MX.array([[1, 2], [3, 4]])
      assert_equal [[1, 2], [3, 4]], a.to_a
      assert_equal [1.5, 2.0], MX.array([1.5, 2]).to_a
      assert_equal [true, false], MX.array([true, false]).to_a
      assert_equal 2**40, MX.array(2**40).item
      assert_equal [0.5], MX.array([0.5], :float16).to_a
      assert_equal [Complex(1.0, 2.0)], MX.array([Complex(1, 2)]).to_a
      assert_equal [[1, 2]], MX.array([MX.array([1, 2])]).to_a
    end
  end

  def test_ops_with_scalars_and_lists
    stressed do
      a = MX.array([1.0, 2.0, 3.0])
      b = (a + 1) * 2.0 - [1.0, 1.0, 1.0]
      c = 2.0 * b
      assert_equal [6.0, 10.0, 14.0], c.to_a
      assert_equal [false, true, true], (c > 6).to_a
      assert_equal 30.0, MX.sum(c).item
      assert_equal [2.0, 2.0], MX.clip(MX.array([1.0, 3.0]), 2, 2).to_a
      assert_equal [1, 5], MX.where([true, false], 1, 5).to_a
    end
  end

  def test_shapes_indexing_and_split
    stressed do
      a = MX.arange(12).reshape(3, 4)
      assert_equal [[5, 6]], a[1..1, 1..2].to_a
      parts = MX.split(a, 2, 1)
      assert_equal [[0, 1], [4, 5], [8, 9]], parts[0].to_a
      assert_equal [2, 2, 2], MX.stack([a[0..1, 0..1], a[1..2, 2..3]], 1).shape
      assert a.T.inspect.start_with?("array([[0, 4, 8],")
    end
  end

  def test_errors_leak_nothing
    stressed do
      assert_raises(MLX::ShapeError) { MX.add(MX.ones([2]), MX.ones([3])) }
      assert_raises(ArgumentError) { MX.array([1], :int8) + 1000 }
      assert_raises(TypeError) { MX.array([1, "x"]) }
      assert_raises(ArgumentError) { MX.array([[1], [1, 2]]) }
      assert_raises(IndexError) { MX.arange(3)[3] }
    end
  end

  def test_eval_trees_random_and_io
    stressed do
      k1, k2 = MX.random_split(MX.key(0))
      x = MX.uniform([4], 0.0, 1.0, :float32, k1)
      y = MX.normal([4], 0.0, 1.0, :float32, k2)
      MX.eval([x, { "y" => y }])
      assert x.evaluated?
      assert y.evaluated?
    end
  end
  # One call through each op family's glue added with the rest of MLX::Core.
  def test_op_families
    stressed do
      x = MX.reshape(MX.arange(12.0), [3, 4])
      assert_equal [4.0, 6.0], x[[1, 1], [0, 2]].to_a
      y = MX.array([3.0, 1.0, 2.0])
      y[[0, 2]] = 9.0
      assert_equal [9.0, 1.0, 9.0], y.to_a
      assert_equal [1.0, 9.0, 9.0], MX.sort(y).to_a
      assert_equal [9.0, 10.0, 19.0], MX.cumsum(y).to_a
      assert_equal [2, 2], MX.einsum("ij,kj->ik", MX.ones([2, 3]), MX.ones([2, 3])).shape
      assert_equal [1, 3, 1], MX.conv1d(MX.ones([1, 5, 1]), MX.ones([1, 3, 1])).shape
      assert_in_delta 2.0, MX.det(MX.array([[2.0, 0.0], [0.0, 1.0]])).item, 1e-6
      assert_equal [3], MX.fft(y).shape
      w = MX.ones([2, 64])
      wq, s, b = MX.quantize(w)
      assert_equal [2, 64], MX.dequantize(wq, s, b).shape
      assert_equal [1, 4], MX.layer_norm(MX.ones([1, 4]), nil, nil, 1e-5).shape
      assert_equal [2, 2], MX.as_strided(x, [2, 2], [1, 1]).shape
    end
  end
end

# The transforms and compile subsets live beside this file.
require_relative "transforms_stress"
require_relative "compile_stress"
