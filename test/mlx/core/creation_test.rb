# frozen_string_literal: true

require "test_helper"

# Creation ops against Python MLX (test/fixtures/creation.json), and the
# conversion rules of MLX::Core.array (what Python MLX does with Python
# values: checked once with mlx 0.32 and written down here).
class CreationTest < Minitest::Test
  FIX = MLXTestHelper.fixture("creation")

  def call_creation(op, args)
    case op
    when "zeros", "ones" then MX.public_send(op, args[0], args[1])
    when "full" then MX.full(*args)
    when "eye", "tri" then MX.public_send(op, *args)
    when "identity" then MX.identity(*args)
    when "arange", "linspace" then MX.public_send(op, *args)
    end
  end

  def test_oracle_creation
    FIX["cases"].each_with_index do |c, i|
      args = c["args"].map { |a| decode_arg(FIX, a) }
      assert_case(FIX, c, "#{c['op']} case #{i} #{c['args'].inspect[0, 80]}") { call_creation(c["op"], args) }
    end
  end

  def test_scalars
    assert_equal MX.int32, MX.array(3).dtype
    assert_equal MX.int64, MX.array(2**40).dtype
    assert_equal MX.float32, MX.array(1.5).dtype
    assert_equal MX.bool_, MX.array(true).dtype
    assert_equal MX.complex64, MX.array(Complex(1, 2)).dtype
    assert_equal [], MX.array(3).shape
    assert_equal 3, MX.array(3).item
    assert_equal Complex(1.0, 2.0), MX.array(Complex(1, 2)).item
    assert_raises(ArgumentError) { MX.array(2**64) }
  end

  def test_lists
    assert_equal MX.int32, MX.array([1, 2]).dtype
    assert_equal MX.int64, MX.array([1, 2**40]).dtype
    assert_equal MX.int32, MX.array([-2**31]).dtype
    assert_equal MX.int64, MX.array([-2**31 - 1]).dtype
    assert_equal MX.float32, MX.array([1, 2.5]).dtype
    assert_equal MX.int32, MX.array([true, 1]).dtype
    assert_equal MX.float32, MX.array([true, 1.5]).dtype
    assert_equal MX.bool_, MX.array([true, false]).dtype
    assert_equal MX.complex64, MX.array([1, Complex(0, 2)]).dtype
    assert_equal [Complex(1.0, 0.0), Complex(0.0, 2.0)], MX.array([1, Complex(0, 2)]).to_a
    assert_equal [[1, 2], [3, 4]], MX.array([[1, 2], [3, 4]]).to_a
    assert_equal [2, 0], MX.array([[], []]).shape
    assert_equal MX.float32, MX.array([]).dtype
    assert_equal [0], MX.array([]).shape
    assert_equal [1099511627776, 1], MX.array([2**40, 1]).to_a
  end

  def test_ragged_and_bad_leaves
    err = assert_raises(ArgumentError) { MX.array([[1], [2, 3]]) }
    assert_kind_of MLX::Error, err
    assert_raises(ArgumentError) { MX.array([[1, 2], 3]) }
    assert_raises(ArgumentError) { MX.array([1, [2]]) }
    assert_raises(TypeError) { MX.array(["a"]) }
    assert_raises(TypeError) { MX.array([1, nil]) }
    assert_raises(TypeError) { MX.array(nil) }
    assert_raises(TypeError) { MX.array("abc") }
  end

  def test_explicit_dtype
    assert_equal [1, 2], MX.array([1.5, 2.7], MX.int32).to_a
    assert_equal [44], MX.array([300], :int8).to_a
    assert_equal 255, MX.array(-1, "uint8").item
    assert_equal MX.float16, MX.array([1, 2], dtype: :float16).dtype
    assert_equal [1.0, 2.0], MX.array([1, 2], :float64).to_a
    assert_equal [true, false], MX.array([1, 0], :bool_).to_a
    assert_raises(ArgumentError) { MX.array([1], :float128) }
    a = MX.array([1, 2])
    assert_same a, MX.array(a)
    assert_equal MX.float32, MX.array(a, :float32).dtype
    assert_equal MX.int32, MX::Array.new([1]).dtype
    assert_equal MX.float16, MX::Array.new([1], :float16).dtype
  end

  def test_lists_of_arrays
    x = MX.array([MX.array([1, 2]), MX.array([3, 4])])
    assert_equal [[1, 2], [3, 4]], x.to_a
    assert_equal MX.int8, MX.array([MX.array([1], :int8)]).dtype
    assert_equal MX.float32, MX.array([MX.array(1.5), 2]).dtype
  end

  def test_arange_forms
    assert_equal [0, 1, 2], MX.arange(3).to_a
    assert_equal MX.int32, MX.arange(3).dtype
    assert_equal MX.float32, MX.arange(3.0).dtype
    assert_equal [0.0, 1.0, 2.0], MX.arange(3, MX.float32).to_a
    assert_equal [2, 3], MX.arange(2, 4).to_a
    assert_equal [2.0, 3.0], MX.arange(2, 4, :float32).to_a
    assert_equal [1, 3], MX.arange(1, 5, 2).to_a
    assert_equal [1.0, 3.0], MX.arange(1, 5, 2, MX.float32).to_a
    assert_equal [0, 2], MX.arange(stop: 4, step: 2).to_a
    assert_raises(ArgumentError) { MX.arange }
    assert_raises(ArgumentError) { MX.arange(1, 2, 3, 4) }
  end

  def test_linspace_eye_tri_forms
    assert_equal 50, MX.linspace(0, 1).size
    assert_equal MX.float16, MX.linspace(0, 1, :float16).dtype
    assert_equal [[1.0, 0.0], [0.0, 1.0]], MX.eye(2).to_a
    assert_equal MX.int32, MX.eye(2, MX.int32).dtype
    assert_equal [2, 3], MX.eye(2, 3, MX.int32).shape
    assert_equal [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], MX.eye(2, 3, k: 1).to_a
    assert_equal [[1, 0], [1, 1]], MX.tri(2, MX.int32).to_a
    assert_equal [[1.0, 0.0], [0.0, 1.0]], MX.identity(2).to_a
  end

  def test_full_zeros_ones_like
    a = MX.array([[1, 2]], :int8)
    assert_equal [[0, 0]], MX.zeros_like(a).to_a
    assert_equal MX.int8, MX.ones_like(a).dtype
    assert_equal [[7, 7]], MX.full_like(a, 7).to_a
    assert_equal MX.float32, MX.full_like(a, 7, :float32).dtype
    assert_raises(TypeError) { MX.full_like([1], 2) }
    assert_equal [3], MX.zeros(3).shape
    assert_equal MX.int32, MX.full([2], 3).dtype
    assert_equal MX.bool_, MX.full([2], true).dtype
    assert_raises(MLX::Error) { MX.zeros([-1]) }
  end

  def test_tril_triu
    m = MX.ones([3, 3])
    assert_equal [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], MX.tril(m).to_a
    assert_equal [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], MX.triu(m, k: 1).to_a
  end
end
