# frozen_string_literal: true

require "test_helper"

# MLX::Core::Array: metadata, reading values, the operator set with arrays
# and Ruby scalars on either side (coerce), comparisons, methods.
class ArrayTest < Minitest::Test
  def test_metadata
    a = MX.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert_equal [2, 3], a.shape
    assert_equal 2, a.ndim
    assert_equal 6, a.size
    assert_equal MX.float32, a.dtype
    assert_equal 4, a.itemsize
    assert_equal 24, a.nbytes
    assert_equal 2, a.length
    assert_equal a.to_a, a.tolist
    assert_equal [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], a.to_flat_a
  end

  def test_item_and_to_a_types
    assert_equal 3, MX.array(3).item
    assert_kind_of Integer, MX.array(3, :uint64).item
    assert_equal 2**63, MX.array(2**62, :uint64).item * 2
    assert_equal 1.5, MX.array(1.5, :float16).item
    assert_equal true, MX.array(true).item
    assert_equal 2.5, MX.array([2.5]).item
    assert_equal 7, MX.array([[7]]).to_i
    assert_equal 7.0, MX.array([[7]]).to_f
    assert_equal 5, MX.array(5).to_a
    assert_equal [0.5, 0.25], MX.array([0.5, 0.25], :bfloat16).to_a
    err = assert_raises(ArgumentError) { MX.array([1, 2]).item }
    assert_kind_of MLX::Error, err
  end

  def test_raw_bytes
    a = MX.array([1, 2], :int16)
    assert_equal [1, 2].pack("s*"), a.to_binary
    b = MLX::Native.from_binary([3.5, 4.5].pack("e*"), [2], :float32)
    assert_equal [3.5, 4.5], b.to_a
    assert_raises(ArgumentError) { MLX::Native.from_binary("abc", [2], :float32) }
  end

  def test_arithmetic_operators
    a = MX.array([1.0, 2.0, 4.0])
    b = MX.array([2.0, 2.0, 2.0])
    assert_equal [3.0, 4.0, 6.0], (a + b).to_a
    assert_equal [-1.0, 0.0, 2.0], (a - b).to_a
    assert_equal [2.0, 4.0, 8.0], (a * b).to_a
    assert_equal [0.5, 1.0, 2.0], (a / b).to_a
    assert_equal [1.0, 0.0, 0.0], (a % b).to_a
    assert_equal [1.0, 4.0, 16.0], (a**b).to_a
    assert_equal [-1.0, -2.0, -4.0], (-a).to_a
    assert_same a, +a
    assert_equal [1.0, 2.0, 4.0], (-a).abs.to_a
  end

  def test_scalars_on_both_sides
    a = MX.array([1.0, 2.0], :float16)
    assert_equal MX.float16, (a * 2.0).dtype
    assert_equal MX.float16, (2.0 * a).dtype
    assert_equal [2.0, 4.0], (2 * a).to_a
    assert_equal [1.0, 0.0], (2 - a).to_a
    assert_equal [2.0, 1.0], (2.0 / a).to_a
    assert_equal [2.0, 4.0], (2**a).to_a
    assert_equal [0.0, 1.0], (5 % MX.array([5.0, 2.0])).to_a
    assert_equal [true, false], (1.5 > a).to_a
    assert_equal [false, true], (1 < a).to_a
    i = MX.array([1, 2], :int8)
    assert_equal MX.int8, (i + 1).dtype
    assert_equal MX.float32, (i + 1.5).dtype
    assert_equal MX.int8, (3 & i).dtype
  end

  def test_comparisons_are_elementwise
    a = MX.array([1, 2, 3])
    assert_equal [false, true, false], (a == 2).to_a
    assert_equal [true, false, true], (a != 2).to_a
    assert_equal [true, false, false], (a < 2).to_a
    assert_equal [true, true, false], (a <= 2).to_a
    assert_equal [false, false, true], (a > 2).to_a
    assert_equal [false, true, true], (a >= 2).to_a
    assert_equal [true, true, true], (a == MX.array([1, 2, 3])).to_a
    assert_equal [[true, false], [false, true]], (MX.array([[1], [2]]) == [1, 2]).to_a
    assert_equal false, a == nil # rubocop:disable Style/NilComparison
    assert_equal false, a == "x"
    assert_equal true, a != :sym
    assert a.eql?(a)
    refute a.eql?(MX.array([1, 2, 3]))
    h = { a => 1 }
    assert_equal 1, h[a]
  end

  def test_bitwise_operators
    a = MX.array([12, 10])
    b = MX.array([10, 6])
    assert_equal [8, 2], (a & b).to_a
    assert_equal [14, 14], (a | b).to_a
    assert_equal [6, 12], (a ^ b).to_a
    assert_equal [-13, -11], (~a).to_a
    assert_equal [24, 20], (a << 1).to_a
    assert_equal [6, 5], (a >> 1).to_a
    assert_equal [false, true], (~MX.array([true, false])).to_a
    assert_raises(MLX::Error) { MX.array([1.5]) & 1 }
  end

  def test_methods
    a = MX.array([[1.0, 4.0], [9.0, 16.0]])
    assert_equal [[1.0, 2.0], [3.0, 4.0]], a.sqrt.to_a
    assert_equal [[1.0, 9.0], [4.0, 16.0]], a.T.to_a
    assert_equal MX.int32, a.astype(MX.int32).dtype
    assert_equal MX.float16, a.astype(:float16).dtype
    assert_equal [[1.0, 4.0], [9.0, 16.0]], a.maximum(0).to_a
    assert_equal [[1.0, 1.0], [1.0, 1.0]], a.minimum(1.0).to_a
    assert_equal [[0.5, 2.0], [4.5, 8.0]], a.divide(2).to_a
    assert_equal [1.0, 4.0], a[0].to_a
    assert_equal [[1.0, 4.0]], a.split(2)[0].to_a
    assert_equal [[1.0, 2.0]], MX.array([[1.04, 1.96]]).round(1).to_a.map { |r| r.map { |v| v.round(5) } }
    assert_equal Float::EPSILON, MX.array([1]).eps
    assert_in_delta 1.1920929e-07, a.eps, 1e-12
    assert_equal [[0.5, 0.5]], MX.array([[1.0, 1.0]]).softmax(axis: -1).to_a
  end

  def test_dup_shares_the_node
    a = MX.array([1.0])
    b = a.dup
    assert b.same?(a)
    refute (a + 0).same?(a)
  end

  def test_uninitialized_array
    a = MX::Array.allocate
    assert_raises(ArgumentError) { a.shape }
  end
end

# The Python-style protocol names kept from the earlier binding.
class ArrayProtocolTest < Minitest::Test
  def test_dunder_operators
    a = MX.array([4.0, 6.0])
    assert_equal [5.0, 7.0], a.__add__(1).to_a
    assert_equal [-3.0, -5.0], a.__rsub__(1).to_a
    assert_equal [0.5, 0.75], a.__truediv__(8).to_a
    assert_equal [3.0, 2.0], a.__rtruediv__(12.0).to_a
    assert_equal [3.0, 2.0], a.__rdiv__(12).to_a
    assert_equal [2.0, 3.0], a.__floordiv__(2).to_a
    assert_equal [2.0, 1.0], MX.array([2.0, 4.0]).__rfloordiv__(5).to_a
    assert_equal [1.0, 1.0], MX.array([2.0, 4.0]).__rmod__(5).to_a
    assert_equal [16.0, 36.0], a.__pow__(2).to_a
    assert_equal [16.0, 64.0], a.__rpow__(2).to_a
    assert_equal [true, false], a.__lt__(5).to_a
    assert_equal [false, true], a.__eq__(6).to_a
    assert_equal [-4.0, -6.0], a.__neg__.to_a
    assert_equal [5.0, 7.0], a.__iadd__(1).to_a
    assert_equal [[52.0]], MX.array([[4.0, 6.0]]).__matmul__(MX.array([[4.0], [6.0]])).to_a
    assert_equal [0, 1], MX.array([2, 5]).__and__(1).to_a
  end

  def test_dunder_conversions_and_misc
    assert_equal true, MX.array([2]).__bool__
    assert_equal false, MX.array(0.0).__bool__
    assert_equal 3, MX.array(3.7).__int__
    assert_equal 3.5, MX.array([[3.5]]).__float__
    assert_raises(ArgumentError) { MX.array([1, 2]).__int__ }
    assert_equal 2, MX.zeros([2, 3]).__len__
    assert_equal 0, MX.array(1).__len__
    assert_equal [3, 4], MX.array([[1, 2], [3, 4]]).__getitem__(1).to_a
    assert_equal MX, MX.array(1).__array_namespace__
    state = MX.array([1, 2], :int8).__getstate__
    assert_equal({ "values" => [1, 2], "dtype" => "int8" }, state)
    restored = MX.array(0).__setstate__(state)
    assert_equal MX.int8, restored.dtype
    assert_equal "array([1, 2], dtype=int32)", MX.array([1, 2]).__repr__
    it = MX.array([[1, 2], [3, 4]]).__iter__
    assert_equal [1, 2], it.__next__.to_a
    assert_equal [3, 4], it.next.to_a
    assert_raises(StopIteration) { it.__next__ }
  end

  # __setitem__ returns a new array (API.md 2.1); []= updates in place.
  def test_setitem
    a = MX.array([1, 2, 3])
    assert_equal [9, 2, 3], a.__setitem__(0, 9).to_a
    assert_equal [1, 2, 3], a.to_a
    assert_equal [7, 2, 7], a.__setitem__([0, 2], 7).to_a
    assert_equal [1, 5, 6], a.__setitem__(MX.array([1, 2]), MX.array([5, 6])).to_a
    assert_equal [0, 2, 0], a.__setitem__(MX.array([true, false, true]), 0).to_a
    assert_equal [0, 2, 3], a.__setitem__([true, false, false], 0).to_a
    m = MX.zeros([2, 3])
    assert_equal [[0, 0, 0], [4, 4, 4]], m.__setitem__([1, true], 4).to_a.map { |r| r.map(&:to_i) }
    a[1] = 20
    assert_equal [1, 20, 3], a.to_a
    assert_raises(IndexError) { a.__setitem__(3, 1) }
  end
end
