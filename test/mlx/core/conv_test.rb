# frozen_string_literal: true

require "test_helper"

# Convolutions replayed against Python MLX (test/fixtures/conv.json): conv1d/2d/3d,
# conv_general, conv_transpose1d/2d/3d and convolve over shapes, strides,
# paddings, dilations, groups, flips and the floating dtypes, positional and
# keyword forms, and the error cases; plus the Ruby-side argument forms,
# gradients through a convolution and vmap.
class ConvTest < Minitest::Test
  FIX = MLXTestHelper.fixture("conv")

  # Half-precision results accumulate in float32 here; upstream's CPU kernels
  # accumulate some paths in the half type, so compare at the half's precision
  # of a sum of a few dozen products. Upstream computes float64 convolutions
  # at float32 precision; ours in float64, so those match to float32's.
  LOOSE_TOL = { "float16" => [1e-2, 1e-2], "bfloat16" => [6e-2, 6e-2], "float64" => [1e-5, 1e-6] }.freeze

  FIX["cases"].reject { |c| c["op"] == "conv_grad" }.group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kwargs = c["kwargs"].transform_keys(&:to_sym)
        label = "#{op} case #{i} #{c['kwargs'].inspect[0, 80]}"
        out = resolve(FIX, c["out"])
        tol = c["tol"] || LOOSE_TOL[out["dtype"]]
        assert_case(FIX, c, label, tol: tol) { MX.public_send(op, *args, **kwargs) }
      end
    end
  end

  # Gradients of sum(op(x, w) * c) against Python MLX's.
  def test_oracle_grads
    FIX["cases"].select { |c| c["op"] == "conv_grad" }.each do |c|
      x, w, cot = c["args"].map { |a| decode_arg(FIX, a) }
      kwargs = c["kwargs"].transform_keys(&:to_sym)
      fun = ->(a, b) { MX.sum(MX.public_send(c["fun"], a, b, **kwargs) * cot) }
      assert_case(FIX, c, "grad of #{c['fun']} #{c['kwargs'].inspect}") { MX.grad(fun, argnums: [0, 1]).call(x, w) }
    end
  end

  def test_argument_forms
    x = MX.ones([1, 5, 5, 2])
    w = MX.ones([3, 3, 3, 2])
    assert_equal [1, 5, 5, 3], MX.conv2d(x, w, 1, 1).shape
    assert_equal [1, 5, 5, 3], MX.conv2d(x, w, [1, 1], [1, 1], [1, 1], 1).shape
    assert_equal [1, 3, 5, 3], MX.conv2d(x, w, padding: [0, 1]).shape
    assert_equal [1, 3, 3, 3], MX.conv2d(x, w, nil, nil, nil, nil).shape
    assert_equal [1, 11, 11, 3], MX.conv_transpose2d(x, w, stride: 2, padding: 0).shape
    assert_equal [1, 7, 5, 3], MX.conv_general(x, w, 1, [[2, 1], [2, 1]]).shape
    assert_equal [1, 5, 5, 3], MX.conv_general(x, w, padding: 1, flip: true).shape
    assert_raises(MLX::ArgumentError) { MX.conv2d(x, w, [1, 1, 1]) }
    assert_raises(TypeError) { MX.conv2d(x, w, 1.5) }
    assert_raises(TypeError) { MX.conv1d([[[1.0]]], MX.ones([1, 1, 1])) }
    assert_raises(TypeError) { MX.convolve(MX.ones([3]), MX.ones([2]), :full) }
    err = assert_raises(MLX::ShapeError) { MX.conv1d(MX.ones([1, 4, 2]), MX.ones([1, 2, 3])) }
    assert_kind_of MLX::Error, err
    assert_raises(MLX::DtypeError) { MX.conv1d(MX.ones([1, 4, 2], :int32), MX.ones([1, 2, 2])) }
  end

  def test_values_and_views
    x = MX.array([[[1.0], [2.0], [3.0], [4.0]]])
    w = MX.array([[[1.0], [-1.0]]])
    assert_equal [[[-1.0], [-1.0], [-1.0]]], MX.conv1d(x, w).to_a
    assert_equal [1.0, 3.0, 6.0, 5.0, 3.0], MX.convolve(MX.array([1.0, 2.0, 3.0]), MX.array([1.0, 1.0, 1.0])).to_a
    assert_equal [1.0, 3.0, 5.0, 3.0], MX.convolve([1.0, 2.0, 3.0], [1.0, 1.0]).to_a # array-likes
    # a transposed (non-contiguous) input gives the contiguous result
    xt = MX.transpose(MX.array([[[1.0, 2.0, 3.0, 4.0]]]), [0, 2, 1])
    assert_equal MX.conv1d(x, w).to_a, MX.conv1d(xt, w).to_a
    assert_equal [0, 3, 1], MX.conv1d(MX.zeros([0, 4, 1]), w).shape
  end

  def test_grad_and_vmap
    x = MX.array([[[1.0], [2.0], [3.0]]])
    w = MX.array([[[0.5], [-1.0]]])
    f = ->(a, b) { MX.sum(MX.conv1d(a, b, padding: 1)) }
    gx, gw = MX.grad(f, argnums: [0, 1]).call(x, w)
    # d/dx sum(conv) = sum of the weight taps that touch each input
    assert_equal [[[-0.5], [-0.5], [-0.5]]], gx.to_a
    assert_equal [[[6.0], [6.0]]], gw.to_a
    xs = MX.stack([x, x * 2])
    ys = MX.vmap(->(a) { MX.conv1d(a, w) }).call(xs)
    assert_equal [2, 1, 2, 1], ys.shape
    assert_equal (MX.conv1d(x, w) * 2).to_a, ys[1].to_a
  end
end
