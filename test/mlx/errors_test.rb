# frozen_string_literal: true

require "test_helper"

# The exception family: every MLX error is rescued by `rescue MLX::Error`
# and by the Ruby class it stands for.
class ErrorsTest < Minitest::Test
  def test_hierarchy
    assert_kind_of Module, MLX::Error
    { MLX::ArgumentError => ArgumentError, MLX::ShapeError => ArgumentError, MLX::DtypeError => TypeError,
      MLX::IndexError => IndexError, MLX::FileError => IOError, MLX::MemoryError => RuntimeError,
      MLX::DeviceError => RuntimeError, MLX::UnsupportedError => RuntimeError,
      MLX::InterruptedError => RuntimeError, MLX::InternalError => RuntimeError }.each do |cls, ruby|
      assert_operator cls, :<, ruby
      assert_operator cls, :<, MLX::Error
      assert_operator cls, :<, StandardError
    end
    assert_operator MLX::ShapeError, :<, MLX::ArgumentError
  end

  def test_bad_shape_rescued_both_ways
    a = MX.ones([2, 3])
    b = MX.ones([4, 5])
    begin
      MX.add(a, b)
      flunk "no error"
    rescue MLX::Error => e
      assert_kind_of MLX::ShapeError, e
      assert_match(/broadcast/i, e.message)
    end
    begin
      MX.add(a, b)
      flunk "no error"
    rescue ArgumentError => e
      assert_kind_of MLX::Error, e
    end
  end

  def test_engine_codes_map_to_classes
    assert_raises(MLX::ShapeError) { MX.reshape(MX.ones([6]), [4]) }
    assert_raises(MLX::IndexError) { MX.ones([2])[5] }
    assert_raises(MLX::DtypeError) { MX.matmul(MX.array([[1]]), MX.array([[1]])) }
    assert_raises(TypeError) { MX.matmul(MX.array([[1]]), MX.array([[1]])) }
    assert_raises(MLX::FileError) { MX.load("/nonexistent/x.npy") }
    assert_raises(MLX::ArgumentError) { MX.transpose(MX.ones([2, 2]), [0, 0]) }
  end

  def test_errors_can_be_raised_and_rescued
    assert_raises(MLX::Error) { raise MLX::ShapeError, "x" }
    assert_raises(ArgumentError) { raise MLX::ShapeError, "x" }
  end

  def test_type_errors_for_non_arrays
    err = assert_raises(TypeError) { MX.zeros_like([1, 2]) }
    assert_match(/expected MLX::Core::Array/, err.message)
  end
end
