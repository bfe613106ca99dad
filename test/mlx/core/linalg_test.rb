# frozen_string_literal: true

require "test_helper"

# matmul against Python MLX (test/fixtures/matmul.json): plain, batched,
# broadcast, vector operands, every float dtype, integer errors.
# linalg against Python MLX (test/fixtures/linalg.json, written by
# generate_linalg.py): norms, factorizations, solves, det, cross, eig*,
# multivariate_normal, error cases.
class LinalgTest < Minitest::Test
  FIX = MLXTestHelper.fixture("matmul")
  LFIX = MLXTestHelper.fixture("linalg")
  # LAPACK results agree to rounding; float32 errors grow with the size.
  TOL = { "float32" => [2e-4, 2e-5], "float64" => [1e-10, 1e-12], "complex64" => [2e-4, 2e-5],
          "float16" => [2e-3, 1e-3], "uint32" => [0, 0] }.freeze

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

  # Python keyword names as Ruby keywords; "UPLO" as Python spells it.
  def call(op, args, kwargs)
    kw = kwargs.to_h { |k, v| [k.to_sym, v.is_a?(Hash) ? decode_float(v["float"]) : v] }
    case op
    when "multivariate_normal"
      kw[:key] = MX.key(kw[:key])
      MX.multivariate_normal(*args, **kw)
    else
      MX.public_send(op, *args, **kw)
    end
  end

  def tol_for(enc)
    TOL[enc["dtype"]]
  end

  def test_oracle_linalg
    LFIX["cases"].each_with_index do |c, i|
      args = c["args"].map { |x| decode_arg(LFIX, x) }
      label = "linalg case #{i} #{c['op']} #{args.map { |a| a.respond_to?(:shape) ? [a.dtype.to_str_name, a.shape] : a }} #{c['kwargs']}"
      out = resolve(LFIX, c["out"])
      if out.key?("error") || c["check"] == "values"
        check_values(c, out, args, label)
      else
        send("check_#{c['check']}", out, call(c["op"], args, c["kwargs"]), args[0], label)
      end
    end
  end

  def check_values(c, out, args, label)
    if out.key?("list")
      res = call(c["op"], args, c["kwargs"])
      assert_equal out["list"].size, res.size, label
      out["list"].zip(res).each_with_index do |(e, r), j|
        e = resolve(LFIX, e)
        assert_array_matches(e, r, "#{label}[#{j}]", tol: tol_for(e))
      end
    elsif c["op"] == "multivariate_normal"
      # Same normal draws; cov's square root from another LAPACK SVD
      # routine agrees to float32 rounding (the samples are float32 even
      # when mean is float64).
      assert_case(LFIX, c, label, tol: [1e-5, 1e-6]) { call(c["op"], args, c["kwargs"]) }
    else
      assert_case(LFIX, c, label, tol: out.key?("error") ? nil : tol_for(out)) { call(c["op"], args, c["kwargs"]) }
    end
  end

  # max |x - y| over all elements (Float).
  def max_diff(x, y)
    MX.max(MX.abs(MX.subtract(x, y))).item
  end

  def eps_for(a)
    a.dtype.to_str_name == "float64" ? 1e-9 : 2e-4
  end

  def eye_like(n, dtype)
    MX.astype(MX.eye(n), dtype)
  end

  # Conjugate transpose of the last two axes.
  def adjoint(m)
    MX.conjugate(MX.swapaxes(m, -1, -2))
  end

  # u, vt orthogonal, a = u[:, :k] diag(s) vt[:k], s as upstream.
  def check_svd(out, res, a, label)
    return assert_array_matches(out, res, label, tol: tol_for(out)) unless out.key?("list")

    u, s, vt = res
    assert_array_matches(resolve(LFIX, out["list"][1]), s, "#{label} s", tol: tol_for(resolve(LFIX, out["list"][1])))
    m, n = a.shape[-2], a.shape[-1]
    k = [m, n].min
    assert_equal resolve(LFIX, out["list"][0])["shape"], u.shape
    assert_equal resolve(LFIX, out["list"][2])["shape"], vt.shape
    eps = eps_for(a) * 10
    assert_operator max_diff(MX.matmul(u, adjoint(u)), eye_like(m, a.dtype)), :<, eps, "#{label} u"
    assert_operator max_diff(MX.matmul(vt, adjoint(vt)), eye_like(n, a.dtype)), :<, eps, "#{label} vt"
    uk = u[false, 0...k]
    vk = MX.swapaxes(MX.swapaxes(vt, -1, -2)[false, 0...k], -1, -2)
    rec = MX.matmul(MX.multiply(uk, MX.astype(MX.expand_dims(s, -2), a.dtype)), vk)
    assert_operator max_diff(rec, a), :<, eps, "#{label} reconstruction"
  end

  # values as upstream, a v = v diag(w), v orthonormal.
  def check_eigh(out, res, a, label)
    w, v = res
    ew = resolve(LFIX, out["list"][0])
    assert_array_matches(ew, w, "#{label} w", tol: tol_for(ew))
    eps = eps_for(a) * 10 * a.shape[-1]
    wa = MX.astype(MX.expand_dims(w, -2), a.dtype)
    assert_operator max_diff(MX.matmul(a, v), MX.multiply(v, wa)), :<, eps, "#{label} av = vw"
    assert_operator max_diff(MX.matmul(adjoint(v), v), eye_like(a.shape[-1], a.dtype)), :<, eps
  end

  # eigenvalues as upstream (same LAPACK routine, same order); a v = v w.
  def check_eig(out, res, a, label)
    w, v = out.key?("list") ? res : [res, nil]
    ew = resolve(LFIX, out.key?("list") ? out["list"][0] : out)
    assert_array_matches(ew, w, "#{label} w", tol: tol_for(ew))
    return unless v

    ac = MX.astype(a, :complex64)
    assert_operator max_diff(MX.matmul(ac, v), MX.multiply(v, MX.expand_dims(w, -2))), :<, 1e-3, "#{label} av = vw"
  end

  # q orthonormal columns, r upper, q r = a, and |r| as upstream.
  def check_qr(out, res, a, label)
    q, r = res
    eq, er = out["list"].map { |e| resolve(LFIX, e) }
    assert_equal eq["shape"], q.shape, label
    assert_equal er["shape"], r.shape, label
    eps = eps_for(a) * 10
    assert_operator max_diff(MX.matmul(q, r), a), :<, eps, "#{label} qr = a"
    k = q.shape[-1]
    assert_operator max_diff(MX.matmul(MX.swapaxes(q, -1, -2), q), eye_like(k, a.dtype)), :<, eps, "#{label} q"
    assert_operator max_diff(MX.triu(r), r), :<=, 0.0, "#{label} r upper"
    want = MX.abs(decode_array(er))
    assert_operator max_diff(MX.abs(r), want), :<, eps * 10, "#{label} |r|"
  end

  def test_positional_forms
    a = MX.array([[4.0, 2.0], [2.0, 3.0]])
    assert_in_delta 8.0, MX.det(a).item, 1e-5
    assert_equal [[2.0, 1.0], [0.0, Math.sqrt(2.0).to_f]].flatten.map { |x| x.round(5) },
                 MX.cholesky(a, true).to_flat_a.map { |x| x.round(5) }
    u = MX.array([[2.0, 5.0], [0.0, 4.0]])
    assert_equal [[0.5, -0.625], [0.0, 0.25]], MX.tri_inv(u, true).to_a
    assert_equal [[0.5, -0.625], [0.0, 0.25]], MX.tri_inv(u, upper: true).to_a
    assert_equal [2], MX.svd(a, false).shape
    assert_equal [2], MX.svd(a, compute_uv: false).shape
    w1 = MX.eigvalsh(a, "U").to_a
    w2 = MX.eigvalsh(a, UPLO: "U").to_a
    assert_equal w1, w2
    assert_in_delta 5.0, MX.norm(MX.array([3.0, 4.0])).item, 1e-6
    assert_in_delta 7.0, MX.norm(MX.array([3.0, -4.0]), 1).item, 1e-6
    assert_in_delta 7.0, MX.norm(MX.array([[3.0, -4.0]]), :fro, nil, false).item**2 / 25.0 * 7.0, 1e-5
    assert_equal [1, 1], MX.norm(a, nil, nil, true).shape
    x = MX.array([1.0, 0.0, 0.0])
    y = MX.array([0.0, 1.0, 0.0])
    assert_equal [0.0, 0.0, 1.0], MX.cross(x, y, -1).to_a
    assert_equal [0.0, 0.0, 1.0], MX::Linalg.cross(x, y).to_a
    assert_equal MX.inv(a).to_a, MX::Linalg.inv(a, stream: MX.cpu).to_a
  end

  # Non-contiguous inputs: transposed and sliced views.
  def test_strided_inputs
    base = MX.array([[4.0, 1.0, 9.0], [2.0, 3.0, 9.0], [9.0, 9.0, 9.0]])
    view = base[0...2, 0...2]
    assert_equal MX.inv(MX.array([[4.0, 1.0], [2.0, 3.0]])).to_a, MX.inv(view).to_a
    t = MX.transpose(view)
    assert_equal MX.inv(MX.array([[4.0, 2.0], [1.0, 3.0]])).to_a, MX.inv(t).to_a
    assert_in_delta 10.0, MX.det(view).item, 1e-5
    s = MX.svd(t, false).to_a
    s2 = MX.svd(MX.array([[4.0, 2.0], [1.0, 3.0]]), false).to_a
    s.zip(s2).each { |p, q| assert_in_delta q, p, 1e-5 }
  end

  def test_empty
    assert_equal [0, 2, 2], MX.inv(MX.zeros([0, 2, 2])).shape
    assert_equal [0, 0], MX.cholesky(MX.zeros([0, 0])).shape
    q, r = MX.qr(MX.zeros([0, 3]))
    assert_equal [[0, 0], [0, 3]], [q.shape, r.shape]
    _u, s, vt = MX.svd(MX.zeros([0, 3]))
    assert_equal [0], s.shape
    assert_equal [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], vt.to_a
    assert_equal 1.0, MX.det(MX.zeros([0, 0])).item
    assert_equal [0], MX.eigvalsh(MX.zeros([0, 0])).shape
  end

  # Singular and non-positive-definite inputs never crash: upstream errors
  # for inverting a singular matrix and returns LAPACK's partial result
  # for a non-positive-definite cholesky.
  def test_numerical_failures
    sing = MX.array([[1.0, 2.0], [2.0, 4.0]])
    assert_raises(MLX::Error) { MX.inv(sing).eval }
    assert_raises(MLX::Error) { MX.solve(sing, MX.array([1.0, 2.0])).eval }
    l = MX.cholesky(MX.array([[1.0, 2.0], [2.0, 1.0]]))
    assert_equal [[1.0, 0.0], [2.0, -3.0]], l.to_a
    sign, logdet = MX.slogdet(MX.ones([4, 4]))
    assert_equal 0.0, sign.item
    assert_equal(-Float::INFINITY, logdet.item)
  end

  def test_multivariate_normal_forms
    mean = MX.array([0.0, 1.0])
    cov = MX.array([[2.0, 0.5], [0.5, 1.0]])
    k = MX.key(0)
    want = MX.multivariate_normal(mean, cov, [], nil, k).to_a
    assert_equal want, MX::Random.multivariate_normal(mean, cov, key: k).to_a
    assert_equal want, MX.multivariate_normal(mean, cov, key: k, dtype: :float32).to_a
    assert_equal [4, 2], MX.multivariate_normal(mean, cov, [4]).shape
    assert_raises(MLX::Error) { MX.multivariate_normal(mean, cov, [], :float64, k) }
  end

  def test_grad_through_inverse
    a = MX.array([[3.0, 1.0], [1.0, 2.0]], :float64)
    g = MX.grad(->(x) { MX.sum(MX.inv(x)) }).call(a)
    ai = MX.inv(a)
    want = MX.negative(MX.matmul(MX.matmul(MX.swapaxes(ai, 0, 1), MX.ones([2, 2], :float64)), MX.swapaxes(ai, 0, 1)))
    assert_operator max_diff(g, want), :<, 1e-12
    v = MX.vmap(->(x) { MX.inv(x) }).call(MX.stack([a, MX.multiply(a, 2.0)]))
    assert_operator max_diff(v[1], MX.inv(MX.multiply(a, 2.0))), :<, 1e-12
  end
end
