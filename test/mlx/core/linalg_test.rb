# frozen_string_literal: true

require "test_helper"

# matmul against Python MLX (test/fixtures/matmul.json): plain, batched,
# broadcast, vector operands, every float dtype, integer errors.
class LinalgTest < Minitest::Test
  FIX = MLXTestHelper.fixture("matmul")

  def test_oracle_matmul
    FIX["cases"].each_with_index do |c, i|
      a, b = c["args"].map { |x| decode_arg(FIX, x) }
      label = "matmul case #{i} #{a.dtype.to_str_name} #{a.shape} @ #{b.shape}"
      if c["op"] == "matmul_t"
        assert_case(FIX, c, label) { MX.matmul(a.T, b) }
      else
        assert_case(FIX, c, label) { MX.matmul(a, b) }
      end
    end
  end

  def test_method_and_errors
    a = MX.array([[1.0, 2.0], [3.0, 4.0]])
    assert_equal [[7.0, 10.0], [15.0, 22.0]], a.matmul(a).to_a
    err = assert_raises(MLX::ShapeError) { MX.matmul(a, MX.ones([3, 2])) }
    assert_kind_of ArgumentError, err
    assert_raises(MLX::Error) { MX.matmul(MX.array([[1]]), MX.array([[1]])) }
  end
end
