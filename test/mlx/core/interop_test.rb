# frozen_string_literal: true

require "test_helper"

class InteropTest < Minitest::Test
  Wrapped = Struct.new(:values) do
    def __mlx__array__ = MLX::Core.array(values)
  end

  def test_dlpack_round_trip
    a = MX.array([[1.0, 2.0]])
    cap = a.__dlpack__
    assert_equal [1, 2], cap.shape
    assert_equal({ "dtype" => "float32", "shape" => [1, 2], "device" => [1, 0], "stream" => nil }, cap.to_h)
    assert_same a, MX.from_dlpack(cap)
    assert_same a, MX.from_dlpack(a)
    assert_equal [1, 0], a.__dlpack_device
    assert_raises(TypeError) { MX.from_dlpack([1]) }
    assert_raises(TypeError) { a.__dlpack__("s") }
  end

  def test_array_like
    like = MX::ArrayLike.new(Wrapped.new([1, 2]))
    assert_equal [1, 2], like.to_a.to_a
    assert_raises(TypeError) { MX::ArrayLike.new(Object.new) }
  end
end
