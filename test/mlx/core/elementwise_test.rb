# frozen_string_literal: true

require "test_helper"

# Every unary and binary elementwise op, where and clip, replayed against
# Python MLX's results (test/fixtures/elementwise.json): random inputs in
# every dtype, broadcasting, mixed dtypes, weak Ruby scalars on either side,
# and the (op, dtype) pairs upstream rejects.
class ElementwiseTest < Minitest::Test
  FIX = MLXTestHelper.fixture("elementwise")

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        label = "#{op} case #{i} (#{c['args'].map { |a| resolve(FIX, a).is_a?(Hash) ? (resolve(FIX, a)['dtype'] || resolve(FIX, a)['scalar'].inspect) : a.inspect }.join(', ')})"
        assert_case(FIX, c, label) { MX.public_send(op, *args) }
      end
    end
  end

  def test_readme_snippet
    mx = MLX::Core
    x = mx.array([1.0, 2.0, 3.0], mx.float32)
    y = mx.sqrt(x + 1.0)
    mx.eval(y)
    values = y.to_a
    assert_in_delta 1.4142135, values[0], 1e-6
    assert_in_delta 1.7320508, values[1], 1e-6
    assert_equal 2.0, values[2]
    assert_output("[1.4142135381698608, 1.7320507764816284, 2.0]\n") { p y.to_a }
  end

  def test_keywords_and_stream
    x = MX.array([1.0, 4.0])
    assert_equal [1.0, 2.0], MX.sqrt(x, stream: MX.cpu).to_a
    assert_equal [2.0, 5.0], MX.add(x, 1, stream: MX.default_stream(MX.cpu)).to_a
    assert_equal [2.0, 5.0], MX.add(x, 1.0, :cpu).to_a
  end

  def test_divmod
    q, r = MX.divmod(MX.array([7, -7]), 3)
    assert_equal [2, -3], q.to_a
    assert_equal [1, 2], r.to_a
  end

  def test_isclose_allclose_array_equal
    a = MX.array([1.0, 2.0, Float::NAN, Float::INFINITY])
    b = MX.array([1.0 + 1e-7, 2.1, Float::NAN, Float::INFINITY])
    assert_equal [true, false, false, true], MX.isclose(a, b).to_a
    assert_equal [true, false, true, true], MX.isclose(a, b, equal_nan: true).to_a
    assert_equal true, MX.allclose(MX.array([1.0, 2.0]), MX.array([1.0, 2.0 + 1e-9]))
    assert_equal false, MX.allclose(a, b)
    assert_equal true, MX.array_equal(MX.array([1, 2]), MX.array([1.0, 2.0]))
    assert_equal false, MX.array_equal(MX.array([1, 2]), MX.array([[1, 2]]))
    assert_equal true, MX.array_equal(a, a, equal_nan: true)
  end

  def test_nan_to_num
    a = MX.array([Float::NAN, Float::INFINITY, -Float::INFINITY, 1.5])
    assert_equal [0.0, MX.finfo(:float32).max, -MX.finfo(:float32).max, 1.5], MX.nan_to_num(a).to_a
    assert_equal [9.0, 1.0, -1.0, 1.5], MX.nan_to_num(a, 9.0, 1.0, -1.0).to_a
    assert_equal [1, 2], MX.nan_to_num(MX.array([1, 2])).to_a
  end

  def test_clip_needs_a_bound
    assert_raises(ArgumentError) { MX.clip(MX.array([1.0]), nil, nil) }
  end

  def test_weak_integer_overflow_is_an_error
    x = MX.array([1, 2], :int8)
    err = assert_raises(MLX::ArgumentError) { x + 300 }
    assert_match(/300 to int8/, err.message)
    assert_raises(ArgumentError) { MX.array([1], :uint32) + -1 }
    assert_equal MX.int8, (x + 100).dtype
  end

  def test_non_numeric_operand
    assert_raises(TypeError) { MX.add(MX.array([1.0]), "a") }
    assert_raises(TypeError) { MX.add(MX.array([1.0]), nil) }
    assert_raises(TypeError) { MX.sqrt(:x) }
  end
  # Weak scalars come from a cache per (value, dtype): the same value at
  # another dtype, an Integer and the equal Float, -0.0 and 0.0, and many
  # values in turn (evicting each other) all keep their own dtype and bits.
  def test_weak_scalar_cache_keeps_values_and_dtypes
    f32 = MX.array([1.5, -2.0], MX.float32)
    f16 = MX.array([1.5, -2.0], MX.float16)
    i32 = MX.array([3, 4], MX.int32)
    2.times do
      assert_equal [2.0, -1.5], MX.add(f32, 0.5).to_a
      assert_equal MX.float16, MX.add(f16, 0.5).dtype
      assert_equal [2.0, -1.5], MX.add(f16, 0.5).to_a
      assert_equal MX.int32, MX.add(i32, 2).dtype
      assert_equal MX.float32, MX.add(i32, 2.0).dtype
      assert_equal [5, 6], MX.add(i32, 2).to_a
    end
    assert_equal(-Float::INFINITY, 1.0 / MX.multiply(MX.array([1.0]), -0.0).item)
    assert_equal Float::INFINITY, 1.0 / MX.multiply(MX.array([1.0]), 0.0).item
    300.times { |i| assert_equal [i * 1.5 + 1.5, i * 1.5 - 2.0], MX.add(f32, i * 1.5).to_a }
    assert_raises(ArgumentError) { MX.add(MX.array([1], MX.int8), 300) }
    assert_raises(ArgumentError) { MX.add(MX.array([1], MX.int8), 300) }
  end
end
