# frozen_string_literal: true

require "test_helper"

# The matmul family beyond matmul (addmm, inner, outer, tensordot, kron,
# einsum, einsum_path, block_masked_mm, gather_mm, segmented_mm,
# hadamard_transform) replayed against Python MLX
# (test/fixtures/matmul_ops.json), plus keywords, gradients and the forms
# where we differ from upstream on purpose.
class MatmulOpsTest < Minitest::Test
  FIX = MLXTestHelper.fixture("matmul_ops")
  # Products of random floats differ from upstream's in the last bits
  # (summation order); small-integer inputs are exact.
  TOL = {
    "float32" => [1e-4, 1e-4], "float64" => [1e-10, 1e-10], "float16" => [4e-3, 4e-3],
    "bfloat16" => [3e-2, 3e-2], "complex64" => [1e-4, 1e-4]
  }.freeze

  def decode_case_arg(v)
    v = resolve(FIX, v)
    x = decode_arg(FIX, v)
    v.is_a?(Hash) && v["view"] == "T" ? MX.swapaxes(x, -1, -2) : x
  end

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    next if op == "einsum_path"

    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_case_arg(a) }
        label = "#{op} case #{i} #{c['args'].map { |a| a.is_a?(Hash) ? a['shape'] : a }.inspect[0, 80]}"
        out = resolve(FIX, c["out"])
        tol = out.key?("dtype") ? TOL[out["dtype"]] : nil
        assert_case(FIX, c, label, tol: tol) { MX.public_send(op, *args) }
      end
    end
  end

  def test_oracle_einsum_path
    FIX["cases"].select { |c| c["op"] == "einsum_path" }.each do |c|
      ops = c["shapes"].map { |shape| MX.zeros(shape) }
      path, summary = MX.einsum_path(c["args"][0], *ops)
      assert_equal c["out"]["path"], path, c["args"][0]
      assert_equal c["out"]["summary"], summary, c["args"][0]
    end
  end

  def test_keywords
    a = MX.arange(6.0).reshape(2, 3)
    b = MX.arange(12.0).reshape(3, 4)
    c = MX.ones([4])
    assert_equal MX.addmm(c, a, b, 2.0, 0.5).to_a, MX.addmm(c, a, b, alpha: 2.0, beta: 0.5).to_a
    assert_equal MX.tensordot(a, b, 1).to_a, MX.tensordot(a, b, axes: [[1], [0]]).to_a
    assert_equal MX.tensordot(a, b, 1).to_a, MX.tensordot(a, b, [1, 0]).to_a
    x = MX.arange(24.0).reshape(2, 3, 4)
    y = MX.arange(40.0).reshape(2, 4, 5)
    li = MX.array([1, 0])
    assert_equal MX.gather_mm(x, y, li, nil, true).to_a,
                 MX.gather_mm(x, y, lhs_indices: li, sorted_indices: true).to_a
    assert_equal MX.hadamard_transform(MX.arange(4.0), 2.0).to_a, MX.hadamard_transform(MX.arange(4.0), scale: 2.0).to_a
    m = MX.array([[true, false]])
    assert_equal MX.block_masked_mm(MX.ones([32, 40]), MX.ones([40, 40]), 32, nil, m).to_a,
                 MX.block_masked_mm(MX.ones([32, 40]), MX.ones([40, 40]), block_size: 32, mask_lhs: m).to_a
    seg = MX.array([[0, 2], [1, 3]])
    assert_equal MX.segmented_mm(a, b, seg).to_a, MX.segmented_mm(a, b, segments: seg).to_a
    assert_raises(MLX::ArgumentError) { MX.segmented_mm(a, b) }
    # array-likes for the x/y operands, Arrays required for a/b
    assert_equal [[3.0]], MX.addmm([[1.0]], [[1.0]], [[2.0]]).to_a
    assert_raises(::TypeError) { MX.inner([1.0], MX.ones([1])) }
    assert_raises(::TypeError) { MX.einsum(:ij, MX.ones([2, 2])) }
  end

  def test_einsum_errors_are_mlx_errors
    err = assert_raises(MLX::Error) { MX.einsum("i->j", MX.ones([3])) }
    assert_kind_of ::ArgumentError, err
    assert_raises(MLX::Error) { MX.einsum("ij") }
    assert_raises(MLX::Error) { MX.einsum_path("ij,jk", MX.ones([2, 3])) }
  end

  # Upstream's float32-only or 1-D quirks, where we give the values the
  # op defines.
  def test_beyond_upstream
    h = MX.hadamard_transform(MX.arange(8.0).astype(:float64))
    assert_equal "float64", h.dtype.to_str_name
    ref = MX.hadamard_transform(MX.arange(8.0))
    h.to_flat_a.zip(ref.to_flat_a).each { |g, w| assert_in_delta w, g, 1e-6 }
    a = MX.arange(33.0) - 16
    b = MX.arange(33.0 * 40).reshape(33, 40) / 100
    m = MX.array([[true, false]])
    v = MX.block_masked_mm(a, b, 32, nil, m)
    w = MX.block_masked_mm(a.reshape(1, 33), b, 32, nil, m).reshape(40)
    assert_equal w.to_a, v.to_a
    err = assert_raises(MLX::IndexError) { MX.gather_mm(MX.ones([2, 2, 2]), MX.ones([2, 2]), MX.array([2])).eval }
    assert_kind_of MLX::Error, err
  end

  # The gradient of a 2-D weight shared by a batch ([B, L, K] @ [K, N]) is
  # one product over the batch folded into rows, sum_b a_b^T c_b; a 1-D
  # right operand keeps its shape; integer-valued inputs make it exact.
  def test_grad_of_shared_weight
    a = MX.arange(24.0).reshape(2, 3, 4) - 10
    w = MX.arange(20.0).reshape(4, 5) / 4
    c = MX.arange(30.0).reshape(2, 3, 5) - 7
    gw = MX.grad(->(w_) { MX.sum(MX.matmul(a, w_) * c) }, 0).call(w)
    want = (0...4).map do |k|
      (0...5).map { |n| (0...2).sum { |b| (0...3).sum { |l| a.to_a[b][l][k] * c.to_a[b][l][n] } } }
    end
    assert_equal [4, 5], gw.shape
    assert_equal want, gw.to_a
    v = MX.arange(4.0)
    gv = MX.grad(->(v_) { MX.sum(MX.matmul(a, v_) * MX.arange(6.0).reshape(2, 3)) }).call(v)
    want_v = (0...4).map { |k| (0...2).sum { |b| (0...3).sum { |l| a.to_a[b][l][k] * ((b * 3) + l) } } }
    assert_equal [4], gv.shape
    assert_equal want_v, gv.to_a
    ga, gw2 = MX.grad(->(a_, w_) { MX.sum(MX.matmul(a_, w_) * c) }, [0, 1]).call(a, w)
    assert_equal MX.matmul(c, MX.transpose(w)).to_a, ga.to_a
    assert_equal want, gw2.to_a
  end

  def test_grad_through_family
    x = MX.arange(6.0).reshape(2, 3) / 10
    w = MX.arange(12.0).reshape(3, 4) / 10
    loss = ->(a) { MX.sum(MX.einsum("ij,jk->ik", a, w) * MX.hadamard_transform(MX.ones([2, 4]))) }
    g = MX.grad(loss).call(x)
    # d/da sum((a @ w) * h) = h @ w^T, h = ones/2 (the transform of ones is [2, 0, 0, 0])
    h = MX.hadamard_transform(MX.ones([2, 4]))
    want = MX.matmul(h, MX.transpose(w))
    g.to_flat_a.zip(want.to_flat_a).each { |gv, wv| assert_in_delta wv, gv, 1e-5 }
    idx = MX.array([1, 0, 1])
    gm = ->(a) { MX.sum(MX.gather_mm(a, MX.ones([2, 4, 5]), idx, MX.array([0, 0, 1]))) }
    g2 = MX.grad(gm).call(MX.ones([2, 3, 4]))
    assert_equal [2, 3, 4], g2.shape
    assert_equal [5.0] * 12 + [10.0] * 12, g2.to_flat_a
  end
end
