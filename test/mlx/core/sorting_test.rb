# frozen_string_literal: true

require "test_helper"

# Sorting, selection, searchsorted and scans replayed against Python MLX
# (test/fixtures/sorting.json, written by generate_sorting.py): every
# dtype, axes nil / positive / negative, kth and k from both ends, ties,
# NaN and -0.0, reverse/inclusive, empty and 0-d inputs, and the inputs
# Python rejects. Orders (including partition's) match exactly.
class SortingTest < Minitest::Test
  FIX = MLXTestHelper.fixture("sorting")

  # Scans round each step to the dtype as upstream does; logcumsumexp's
  # exp/log are ours, and long float32 products and sums gather a few ulps.
  SCAN_TOL = {
    "float32" => [5e-6, 1e-6], "float16" => [2e-3, 1e-4], "bfloat16" => [1.6e-2, 1e-3],
    "float64" => [1e-12, 1e-14], "complex64" => [2e-5, 1e-6]
  }.freeze
  SCANS = %w[cumsum cumprod cummax cummin logcumsumexp].freeze
  # upstream's float64 logaddexp goes through float32 exp/log; ours is
  # double throughout (the closer result)
  F64_IN_F32 = [2e-6, 1e-7].freeze

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kw = c["kwargs"].transform_keys(&:to_sym)
        dtype = resolve(FIX, c["args"][0])["dtype"]
        label = "#{op} case #{i} #{dtype} #{kw}"
        exact = !SCANS.include?(op) && op != "median"
        out = resolve(FIX, c["out"])
        tol = SCAN_TOL[out["dtype"]] if SCANS.include?(op)
        tol = F64_IN_F32 if op == "logcumsumexp" && out["dtype"] == "float64"
        assert_case(FIX, c, label, exact: exact, tol: tol) { MX.public_send(op, *args, **kw) }
      end
    end
  end

  def test_positional_forms
    a = MX.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    assert_equal [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]], MX.sort(a).to_a
    assert_equal [[0.0, -1.0, 2.0], [3.0, 1.0, 5.0]], MX.sort(a, 0).to_a
    assert_equal [-1.0, 0.0, 1.0, 2.0, 3.0, 5.0], MX.sort(a, nil).to_a
    assert_equal [[1, 2, 0], [1, 0, 2]], MX.argsort(a, -1).to_a
    assert_equal MX.uint32, MX.argsort(a).dtype
    assert_equal [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]], MX.partition(a, 1).to_a
    assert_equal [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]], MX.partition(a, kth: 1, axis: -1).to_a
    assert_equal [1, 0, 2], MX.argpartition(MX.array([2.0, 1.0, 3.0]), 0).to_a
    assert_equal [5.0], MX.topk(a, 1, nil).to_a
    assert_equal [[3.0], [5.0]], MX.topk(a, 1).to_a
    assert_equal [[3.0, 1.0, 5.0]], MX.topk(a, k: 1, axis: 0).to_a
    assert_in_delta 1.5, MX.median(a).item, 1e-6
    assert_equal [[2.0], [0.0]], MX.median(a, 1, true).to_a
    assert_equal [1.5, 0.0, 3.5], MX.median(a, axis: 0).to_a
  end

  def test_scan_positional_forms
    a = MX.array([[1, 2, 3], [4, 5, 6]])
    assert_equal [1, 3, 6, 10, 15, 21], MX.cumsum(a).to_a
    assert_equal [[1, 2, 3], [5, 7, 9]], MX.cumsum(a, 0).to_a
    assert_equal [[6, 5, 3], [15, 11, 6]], MX.cumsum(a, 1, true).to_a
    assert_equal [[5, 3, 0], [11, 6, 0]], MX.cumsum(a, 1, true, false).to_a
    assert_equal [[0, 1, 3], [0, 4, 9]], MX.cumsum(a, axis: 1, inclusive: false).to_a
    assert_equal [[1, 2, 6], [4, 20, 120]], MX.cumprod(a, -1).to_a
    assert_equal [1.0, 3.0, 6.0], MX.cumsum(MX.array([1, 2, 3]), dtype: :float32).to_a
    assert_equal MX.float32, MX.cumsum(MX.array([1, 2, 3]), dtype: :float32).dtype
    assert_equal [[3, 3, 3], [6, 6, 6]], MX.cummax(a, 1, true).to_a
    assert_equal [[1, 1, 1], [4, 4, 4]], MX.cummin(a, 1).to_a
    assert_equal MX.int32, MX.cumsum(MX.array([true, false])).dtype
    assert_equal MX.float32, MX.logcumsumexp(MX.array([1, 2])).dtype
    assert_equal [1, 3, 6], MX.cumulative_sum(MX.array([1, 2, 3])).to_a
  end

  def test_array_methods
    a = MX.array([[1, 2, 3], [4, 5, 6]])
    assert_equal [1, 3, 6, 10, 15, 21], a.cumsum.to_a
    assert_equal [[1, 2, 3], [4, 10, 18]], a.cumprod(0).to_a
    assert_equal [[0, 1, 3], [0, 4, 9]], a.cumsum(axis: 1, inclusive: false).to_a
    assert_equal [[3, 3, 3], [6, 6, 6]], a.cummax(1, true).to_a
    assert_equal [[1, 1, 1], [4, 4, 4]], a.cummin(-1).to_a
    assert_in_delta 6.4076, a.logcumsumexp(1).to_a[1][2], 1e-4
  end

  def test_searchsorted
    s = MX.array([1, 2, 2, 4])
    v = MX.array([0, 2, 3, 5])
    assert_equal [0, 1, 3, 4], MX.searchsorted(s, v).to_a
    assert_equal [0, 3, 3, 4], MX.searchsorted(s, v, "right").to_a
    assert_equal [0, 3, 3, 4], MX.searchsorted(s, v, side: :right).to_a
    assert_equal MX.uint32, MX.searchsorted(s, v).dtype
    assert_raises(MLX::ArgumentError) { MX.searchsorted(s, v, "middle") }
  end

  def test_non_contiguous_inputs
    a = MX.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]])
    t = MX.transpose(a)
    assert_equal [[0.0, 3.0], [-1.0, 1.0], [2.0, 5.0]], MX.sort(t).to_a
    assert_equal [[1, 0], [1, 0], [0, 1]], MX.argsort(t, 1).to_a
    assert_equal [[3.0, 1.0, 2.0], [3.0, 1.0, 5.0]], MX.cummax(a, 0).to_a
    assert_equal [[3.0, 0.0], [4.0, -1.0], [6.0, 4.0]], MX.cumsum(t, 0).to_a
    b = MX.broadcast_to(MX.array([2.0, 1.0]), [3, 2])
    assert_equal [[1.0, 2.0]] * 3, MX.sort(b).to_a
    assert_equal [[2.0, 1.0], [4.0, 2.0], [6.0, 3.0]], MX.cumsum(b, 0).to_a
  end

  def test_errors
    a = MX.zeros([2, 3])
    assert_raises(MLX::IndexError) { MX.sort(a, 2) }
    assert_raises(MLX::IndexError) { MX.cumsum(a, 2) }
    assert_raises(MLX::ArgumentError) { MX.partition(a, 3) }
    assert_raises(MLX::ArgumentError) { MX.topk(a, 4) }
    assert_raises(MLX::ArgumentError) { MX.median(a, [0, 0]) }
    assert_raises(::TypeError) { MX.sort(a, 1.5) }
  end

  def test_grad_through_sort_and_scans
    x = MX.array([1.0, 0.0, 2.0, 0.0, 3.0])
    w = MX.array([1.0, 2.0, 3.0, 4.0, 5.0])
    g = MX.grad(->(v) { MX.sum(MX.sort(v) * w) }).call(x)
    assert_equal [3.0, 1.0, 4.0, 2.0, 5.0], g.to_a
    g = MX.grad(->(v) { MX.sum(MX.cumsum(v) * w) }).call(x)
    assert_equal [15.0, 14.0, 12.0, 9.0, 5.0], g.to_a
    g = MX.grad(->(v) { MX.sum(MX.cumprod(v)) }).call(x)
    assert_equal [1.0, 3.0, 0.0, 0.0, 0.0], g.to_a
    y = MX.array([1.0, 3.0, 2.0, 3.0, 0.5])
    g = MX.grad(->(v) { MX.sum(MX.cummax(v) * w) }).call(y)
    assert_equal [1.0, 5.0, 0.0, 9.0, 0.0], g.to_a
  end
end
