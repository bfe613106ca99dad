# frozen_string_literal: true

require "test_helper"

# The fft family replayed against Python MLX (test/fixtures/fft.json, written
# by test/fixtures/generate_fft.py) through MLX::Core::FFT (Python's
# mx.fft.* spelling), plus the flat MLX::Core positional forms, keywords,
# round trips and gradients.
class FFTTest < Minitest::Test
  FIX = MLXTestHelper.fixture("fft")

  # FFT results differ from pocketfft's in the last bits relative to the
  # largest output, so the absolute tolerance scales with it.
  def fft_tol(fix, c)
    out = resolve(fix, c["out"])
    return nil unless encoded_array?(out) && %w[float32 complex64].include?(out["dtype"])

    vals = decoded_values(out)
    big = vals.map { |v| v.is_a?(Complex) ? v.abs : v.to_f.abs }.max || 0.0
    [1e-4, 2e-6 * [big, 1.0].max]
  end

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kwargs = c["kwargs"].transform_keys(&:to_sym)
        label = "#{op} case #{i} #{kwargs.inspect}"
        assert_case(FIX, c, label, tol: fft_tol(FIX, c)) { MX::FFT.public_send(op, *args, **kwargs) }
      end
    end
  end

  def close(a, b, tol = 1e-5)
    MX.allclose(a, b, tol, tol)
  end

  def test_flat_positional_forms
    x = MX.array([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 2.0, 0.5]])
    assert close(MX.fft(x, 6, 1), MX::FFT.fft(x, n: 6, axis: 1))
    assert close(MX.fft(x, nil, 0), MX.fft(x, axis: 0))
    assert close(MX.ifft(MX.fft(x)), MX.astype(x, :complex64))
    assert_equal [2, 3], MX.rfft(x).shape
    assert_equal MX.float32, MX.irfft(MX.rfft(x)).dtype
    assert close(MX.irfft(MX.rfft(x, 5), 5), MX.pad(x, [[0, 0], [0, 1]]))
    assert_equal [3, 5], MX.fft2(x, [3, 5]).shape
    assert_equal [3, 5], MX.fft2(x, [3, 5], [-2, -1]).shape
    assert_equal [2, 4], MX.ifft2(x, nil, [0, 1]).shape
    assert close(MX.fftn(x), MX.fft2(x))
    assert close(MX.ifftn(MX.fftn(x, [2, 4], [0, 1])), MX.astype(x, :complex64))
    assert close(MX.irfftn(MX.rfftn(x)), x)
    assert close(MX.irfft2(MX.rfft2(x), [2, 4]), x)
    assert close(MX.fftn(x, n: [4], axes: [1]), MX.fft(x))
    assert close(MX.fft2(x, s: [2, 4]), MX.fft2(x))
    assert_equal [[3.0, 4.0, 1.0, 2.0], [2.0, 0.5, 0.0, -1.0]], MX.fftshift(x, 1).to_a
    assert_equal x.to_a, MX.ifftshift(MX.fftshift(x)).to_a
    assert_equal x.to_a, MX.ifftshift(MX.fftshift(x, [0, 1]), axes: [0, 1]).to_a
    assert_equal [0.0, 0.25, -0.5, -0.25], MX.fftfreq(4, 1.0).to_a
    assert_equal [0.0, 0.5, 1.0], MX.rfftfreq(4, d: 0.5).to_a
    # Ruby array-likes convert.
    assert close(MX.fft([1.0, 0.0, 0.0]), MX.ones([3], :complex64))
  end

  def test_norm_keyword
    x = MX.array([0.0, 1.0, 2.0, 3.0])
    assert close(MX.fft(x, norm: "ortho"), MX.fft(x) / 2.0)
    assert close(MX.fft(x, norm: :forward), MX.fft(x) / 4.0)
    assert close(MX.ifft(x, norm: "forward"), MX.ifft(x) * 4.0)
    assert close(MX.irfft(MX.rfft(x, norm: "ortho"), 4, norm: "ortho"), x)
    assert_raises(MLX::ArgumentError) { MX.fft(x, norm: "sideways") }
    assert_raises(::TypeError) { MX.fft(x, norm: 3) }
    assert_raises(::TypeError) { MX.fft(x, 2.5) }
  end

  def test_errors
    v = MX.array([1.0, 2.0, 3.0])
    assert_raises(MLX::ArgumentError) { MX.fftn(v, [3]) }
    assert_raises(MLX::ArgumentError) { MX.fft(v, 0) }
    assert_raises(MLX::IndexError) { MX.fft(v, nil, 1) }
    assert_raises(MLX::IndexError) { MX.fft2(v) }
    assert_raises(MLX::ArgumentError) { MX.fft(MX.array(1.0)) }
    assert_raises(MLX::ArgumentError) { MX.fftfreq(0) }
    err = assert_raises(MLX::ArgumentError) { MX.fftn(MX.zeros([2, 2]), axes: [1, -1]) }
    assert_kind_of MLX::Error, err
  end

  def test_non_contiguous_inputs
    x = MX.reshape(MX.arange(24.0), [4, 6])
    t = MX.transpose(x)
    assert close(MX.fft(t), MX.fft(MX.contiguous(t)))
    assert close(MX.rfft(t, nil, 0), MX.rfft(MX.contiguous(t), nil, 0))
    s = x[0..3, (0..).step(2)]
    assert close(MX.fft(s), MX.fft(MX.contiguous(s)))
    b = MX.broadcast_to(MX.array([1.0, 2.0, 3.0]), [4, 3])
    assert close(MX.fft(b, nil, 0), MX.fft(MX.contiguous(b), nil, 0))
  end

  def test_grad_and_vmap
    c = MX.array([0.5, -1.0, 2.0, 0.25])
    f = ->(x) { MX.sum(MX.real(MX.fft(x)) * c) }
    x = MX.array([1.0, 2.0, -1.0, 0.5])
    g = MX.grad(f).call(x)
    # d/dx sum_k c_k Re(sum_j x_j e^{-2 pi i jk/4}) = Re(fft(c)) (real, symmetric kernel).
    assert close(g, MX.real(MX.fft(c)), 1e-5)
    batch = MX.reshape(MX.arange(12.0), [3, 4])
    vm = MX.vmap(->(r) { MX.fft(r) }).call(batch)
    assert close(vm, MX.fft(batch))
  end
end
