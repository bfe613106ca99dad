# frozen_string_literal: true

require "test_helper"

# The fast ops (rms_norm, layer_norm, rope, scaled_dot_product_attention)
# against Python MLX's mx.fast on the CPU (test/fixtures/fast.json, written
# by test/fixtures/generate_fast.py): dtypes, optional inputs, masks,
# grouped-query heads, errors. Also the MLX::Core::Fast spellings, keyword
# forms, strided inputs and gradients.
class FastTest < Minitest::Test
  FIX = MLXTestHelper.fixture("fast")

  def replay(c)
    args = c["args"].map { |a| decode_arg(FIX, a) }
    kwargs = c["kwargs"].to_h { |k, v| [k.to_sym, decode_arg(FIX, v)] }
    MX.public_send(c["op"], *args, **kwargs)
  end

  def label(c, i)
    "#{c['op']} case #{i} (#{c['args'].size} args, #{c['kwargs'].keys.join(',')})"
  end

  %w[rms_norm layer_norm rope scaled_dot_product_attention].each do |op|
    define_method("test_#{op}_matches_python") do
      cases = FIX["cases"].each_with_index.select { |c, _| c["op"] == op }
      refute_empty cases
      cases.each do |c, i|
        assert_case(FIX, c, label(c, i), tol: c["tol"]) { replay(c) }
      end
    end
  end

  def test_fast_module_spelling
    x = MX.random_uniform([2, 3, 4, 8], -1.0, 1.0)
    w = MX.ones([8])
    assert MX.allclose(MX::Fast.rms_norm(x, w, 1e-5), MX.rms_norm(x, w))
    assert MX.allclose(MX::Fast.layer_norm(x, w, nil, eps: 1e-5), MX.layer_norm(x, w))
    assert MX.allclose(MX::Fast.rope(x, 8, traditional: false, base: 10_000.0, scale: 1.0, offset: 2),
                       MX.rope(x, 8, false, 10_000.0, 1.0, 2))
    assert MX.allclose(MX::Fast.scaled_dot_product_attention(x, x, x, scale: 0.5, mask: "causal"),
                       MX.scaled_dot_product_attention(x, x, x, 0.5, :causal))
  end

  # The fused kernel against the plain composition, for a transposed
  # (strided) input and a boolean mask broadcast over batch and heads.
  def test_strided_inputs_and_composition
    q = MX.swapaxes(MX.random_uniform([2, 3, 8, 5], -1.0, 1.0), -1, -2)
    k = MX.random_uniform([2, 3, 7, 8], -1.0, 1.0)
    v = MX.random_uniform([2, 3, 7, 4], -1.0, 1.0)
    mask = MX.random_uniform([5, 7]) > 0.3
    got = MX.scaled_dot_product_attention(q, k, v, 0.35, mask)
    scores = MX.matmul(q * 0.35, MX.swapaxes(k, -1, -2))
    scores = MX.where(mask, scores, -3.4028234663852886e38)
    want = MX.matmul(MX.softmax(scores, -1), v)
    assert MX.allclose(got, want, 1e-5, 1e-6)

    x = MX.swapaxes(MX.random_uniform([4, 16, 3], -2.0, 2.0), 1, 2)
    want = x * MX.rsqrt(MX.mean(x * x, -1, keepdims: true) + 1e-5)
    assert MX.allclose(MX.rms_norm(x), want, 1e-5, 1e-6)
  end

  def test_gradients_through_fast_ops
    x = MX.random_uniform([2, 6], -1.0, 1.0)
    w = MX.random_uniform([6], 0.5, 1.5)
    loss = ->(a, b) { MX.sum(MX.layer_norm(a, b, nil, 1e-5) * MX.arange(6)) }
    plain = lambda do |a, b|
      mu = MX.mean(a, -1, keepdims: true)
      c = a - mu
      MX.sum(c * MX.rsqrt(MX.mean(c * c, -1, keepdims: true) + 1e-5) * b * MX.arange(6))
    end
    g1 = MX.grad(loss, argnums: [0, 1]).call(x, w)
    g2 = MX.grad(plain, argnums: [0, 1]).call(x, w)
    g1.zip(g2).each { |a, b| assert MX.allclose(a, b, 1e-4, 1e-5) }

    q = MX.random_uniform([1, 2, 3, 4], -1.0, 1.0)
    f = ->(a) { MX.sum(MX.scaled_dot_product_attention(a, a, a, 0.5, "causal")) }
    g = MX.grad(f).call(q)
    assert_equal [1, 2, 3, 4], g.shape
  end

  def test_errors_are_mlx_errors
    x = MX.ones([2, 3, 4])
    assert_raises(MLX::ArgumentError) { MX.rope(x, 3, false, 10.0) }
    assert_raises(MLX::ArgumentError) { MX.rope(x, 4) }
    assert_raises(MLX::Error) { MX.rms_norm(MX.array(1.0)) }
    assert_raises(MLX::ArgumentError) { MX.scaled_dot_product_attention(MX.ones([1, 1, 2, 2]), MX.ones([1, 1, 2, 2]), MX.ones([1, 1, 2, 2]), 1.0, "nope") }
  end
end
