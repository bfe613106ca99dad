# frozen_string_literal: true

require "test_helper"

# Quantization replayed against Python MLX (test/fixtures/quantize.json):
# packed words, scales and biases bit for bit, dequantized values and
# products within float tolerance, fp8 bytes exactly, and the same errors.
class QuantizeTest < Minitest::Test
  FIX = MLXTestHelper.fixture("quantize")

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kwargs = c["kwargs"].to_h { |k, v| [k.to_sym, decode_arg(FIX, v)] }
        label = "#{op} case #{i} #{c['kwargs'].inspect[0, 80]}"
        product = %w[quantized_matmul gather_qmm].include?(op)
        if product && args[0].dtype.name != :float32 && !c["out"].key?("error")
          assert_half_product(op, args, kwargs, label)
          next
        end
        assert_case(FIX, c, label, exact: !product && op != "dequantize", tol: product ? [2e-3, 2e-3] : nil) do
          MX.public_send(op, *args, **kwargs)
        end
      end
    end
  end

  # Half-precision products accumulate in float32 here, where upstream
  # accumulates some bit widths in the input dtype (its error reaches
  # several percent near cancellation), so they are checked against the
  # float32 product of the same (exactly upcast) operands, rounded once.
  def assert_half_product(op, args, kwargs, label)
    dtype = args[0].dtype
    up = args.map { |a| a.dtype.name == :uint32 || a.dtype.name == :uint8 ? a : MX.astype(a, :float32) }
    want = MX.astype(MX.public_send(op, *up, **kwargs), dtype)
    got = MX.public_send(op, *args, **kwargs)
    assert_equal dtype, got.dtype, label
    assert MX.array_equal(got, want), label
  end

  def test_round_trip_error_is_bounded
    w = MX.random_uniform([8, 256], -1.0, 1.0)
    [2, 3, 4, 5, 6, 8].each do |bits|
      wq, s, b = MX.quantize(w, bits: bits)
      err = MX.max(MX.abs(MX.dequantize(wq, s, b, bits: bits) - w)).item
      # One step of the group range (2 / (2**bits - 1)): the anchored edge can shift the grid.
      assert_operator err, :<=, 2.0 / ((2**bits) - 1) + 1e-5, "bits #{bits}"
    end
  end

  def test_gradients
    w = MX.random_uniform([8, 64], -1.0, 1.0)
    wq, s, b = MX.quantize(w)
    wd = MX.dequantize(wq, s, b)
    x = MX.random_uniform([3, 64], -1.0, 1.0)
    f = ->(x_) { MX.sum(MX.sin(MX.quantized_matmul(x_, wq, s, b))) }
    g = ->(x_) { MX.sum(MX.sin(MX.matmul(x_, MX.transpose(wd)))) }
    assert MX.allclose(MX.grad(f).call(x), MX.grad(g).call(x), 1e-4, 1e-5)
    # Scales and biases: the dequantized weight's gradient per group.
    fs = ->(s_, b_) { MX.sum(MX.sin(MX.quantized_matmul(x, wq, s_, b_))) }
    gs, gb = MX.grad(fs, [0, 1]).call(s, b)
    dw = MX.grad(->(w_) { MX.sum(MX.sin(MX.matmul(x, MX.transpose(w_)))) }).call(wd)
    codes = MX.dequantize(wq, MX.ones_like(s), MX.zeros_like(b))
    want_s = MX.sum(MX.reshape(dw * codes, [8, 1, 64]), -1)
    want_b = MX.sum(MX.reshape(dw, [8, 1, 64]), -1)
    # Sums of 64 terms (up to ~100 in size) in two orders: an element that
    # cancels to near zero keeps the float32 error of its terms, so the
    # absolute tolerance follows the largest sum.
    assert MX.allclose(gs, want_s, 1e-4, 1e-5 * [MX.max(MX.abs(want_s)).item, 1.0].max)
    assert MX.allclose(gb, want_b, 1e-4, 1e-5 * [MX.max(MX.abs(want_b)).item, 1.0].max)
    assert_raises(MLX::ArgumentError) { MX.grad(->(w_) { MX.sum(MX.quantized_matmul(x, w_, s, b)) }).call(wq) }
  end

  def test_vmap
    w = MX.random_uniform([4, 64], -1.0, 1.0)
    wq, s, b = MX.quantize(w)
    xs = MX.random_uniform([5, 2, 64], -1.0, 1.0)
    got = MX.vmap(->(x_) { MX.quantized_matmul(x_, wq, s, b) }).call(xs)
    want = MX.quantized_matmul(xs, wq, s, b)
    assert MX.allclose(got, want, 1e-5, 1e-6)
    ws = MX.random_uniform([3, 4, 64], -1.0, 1.0)
    wq3, s3, b3 = MX.quantize(ws)
    x = MX.random_uniform([2, 64], -1.0, 1.0)
    got = MX.vmap(->(q, sc, bi) { MX.quantized_matmul(x, q, sc, bi) }).call(wq3, s3, b3)
    assert MX.allclose(got, MX.quantized_matmul(x, wq3, s3, b3), 1e-5, 1e-6)
  end

  def test_qqmm_matches_quantized_operands
    w = MX.random_uniform([8, 64], -1.0, 1.0)
    x = MX.random_uniform([3, 64], -1.0, 1.0)
    wq, s = MX.quantize(w, mode: "nvfp4")
    xq = MX.dequantize(*MX.quantize(x, mode: "nvfp4"), mode: "nvfp4", dtype: :float32)
    want = MX.quantized_matmul(xq, wq, s, mode: "nvfp4")
    assert MX.allclose(MX.qqmm(x, w), want, 1e-5, 1e-6)
    assert MX.allclose(MX.qqmm(x, wq, s), want, 1e-5, 1e-6)
    assert_raises(MLX::ArgumentError) { MX.qqmm(x, w, nil, nil, nil, "affine") }
    assert_raises(TypeError) { MX.quantize(w, mode: :affine) }
  end
end
