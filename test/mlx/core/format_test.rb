# frozen_string_literal: true

require "test_helper"

# Array#inspect / #to_s print exactly what Python MLX's repr prints
# (test/fixtures/repr.json): %g floats, True/False, complex, nesting and
# indentation, empty arrays, and "..." summaries of axes longer than 6.
class FormatTest < Minitest::Test
  FIX = MLXTestHelper.fixture("repr")

  def test_oracle_repr
    FIX["cases"].each_with_index do |c, i|
      a = decode_arg(FIX, c["args"][0])
      assert_equal c["out"], a.inspect, "repr case #{i}"
      assert_equal c["out"], a.to_s, "to_s case #{i}"
    end
  end

  def test_examples
    assert_equal "array([1.41421, 1.73205, 2], dtype=float32)", MX.sqrt(MX.array([2.0, 3.0, 4.0])).inspect
    assert_equal "array([[1, 2],\n       [3, 4]], dtype=int32)", MX.array([[1, 2], [3, 4]]).inspect
    assert_equal "array(True, dtype=bool)", MX.array(true).inspect
  end

  def test_big_lazy_array_prints_cheaply
    a = MX.ones([2000, 2000]) * 2
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    s = a.inspect
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
    assert_equal "array([[2, 2, 2, ..., 2, 2, 2],", s.lines.first.chomp
    assert_equal 7, s.lines.size
    assert_operator elapsed, :<, 2.0
  end
end
