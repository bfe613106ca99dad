# frozen_string_literal: true

require "test_helper"

# Reductions replayed against Python MLX (test/fixtures/reductions.json):
# every dtype, axis nil / Integer / negative / Array, keepdims, ddof, empty
# and 0-d inputs, out-of-range axes.
class ReductionsTest < Minitest::Test
  FIX = MLXTestHelper.fixture("reductions")

  # Summation order differs from upstream's, and where upstream accumulates
  # in a narrower type than we do our results are the closer ones (checked
  # against numpy in float64): float32 sums of ~100 O(1) values differ by a
  # few 1e-6 absolute, half-precision reductions by a few half ulps, and
  # upstream's float64 softmax/logsumexp carry float32 error.
  WIDER = {
    "float32" => [2e-5, 2e-5], "float16" => [6e-3, 2e-4], "bfloat16" => [4e-2, 2e-3]
  }.freeze
  F64_IN_F32 = [2e-6, 1e-7].freeze

  def tolerance(op, dtype)
    return F64_IN_F32 if dtype == "float64" && %w[softmax logsumexp].include?(op)

    WIDER[dtype]
  end

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kw = c["kwargs"].transform_keys(&:to_sym)
        dtype = resolve(FIX, c["args"][0])["dtype"]
        label = "#{op} case #{i} #{dtype} #{kw}"
        assert_case(FIX, c, label, tol: tolerance(op, dtype)) { MX.public_send(op, *args, **kw) }
      end
    end
  end

  def test_positional_forms
    a = MX.array([[1.0, 2.0], [3.0, 4.0]])
    assert_equal [4.0, 6.0], MX.sum(a, 0).to_a
    assert_equal [[3.0], [7.0]], MX.sum(a, 1, true).to_a
    assert_equal [[3.0], [7.0]], MX.sum(a, -1, keepdims: true).to_a
    assert_equal 10.0, MX.sum(a, [0, 1]).item
    assert_equal 2.5, MX.mean(a).item
    assert_in_delta 1.6666666, MX.var(a, nil, false, 1).item, 1e-6
    assert_equal [1, 1], MX.argmax(a, 1).to_a
    assert_equal 3, MX.argmax(a).item
    assert_equal MX.uint32, MX.argmax(a).dtype
  end

  def test_array_methods
    a = MX.array([[1.0, 2.0], [3.0, 4.0]])
    assert_equal 10.0, a.sum.item
    assert_equal [1.5, 3.5], a.mean(1).to_a
    assert_equal [[4.0, 6.0]], a.sum(0, true).to_a
    assert_equal [3.0, 4.0], a.max(axis: 0).to_a
    assert_equal [1.0, 3.0], a.min(-1).to_a
    assert_equal 24.0, a.prod.item
    assert_in_delta 1.118034, a.std.item, 1e-6
    assert_equal [0, 0], a.argmin(1).to_a
    assert_equal true, (a > 0).all.item
    assert_equal false, (a > 3).all.item
    assert_equal true, (a > 3).any.item
  end

  def test_axis_errors
    a = MX.array([[1.0, 2.0]])
    assert_raises(MLX::Error) { MX.sum(a, 2) }
    assert_raises(TypeError) { MX.sum(a, "x") }
  end
end
