# frozen_string_literal: true

module MLX
  module Core
    module_function

    # matmul(a, b): NumPy matmul semantics (1-D operands promoted, leading
    # dims broadcast); floating dtypes only, as MLX.
    def matmul(a, b, pos_stream = nil, stream: pos_stream)
      Native.matmul(a, b, stream)
    end

    # norm(x, ord = nil, axis = nil, keepdims = false): vector norms over
    # one axis (ord nil/2, 1, 0, +-Float::INFINITY, any p), matrix norms
    # over two ("fro", "nuc", +-1, +-2, +-inf); nil axis with an ord needs
    # a 1-D or 2-D x. ord may be a String or Symbol.
    def norm(x, pos_ord = nil, pos_axis = nil, pos_keepdims = false, pos_stream = nil, ord: pos_ord, axis: pos_axis,
             keepdims: pos_keepdims, stream: pos_stream)
      Native.norm(x, ord, axis, keepdims, stream)
    end

    # qr(x) -> [q, r] with q [..., M, K], r [..., K, N].
    def qr(x, pos_stream = nil, stream: pos_stream)
      Native.qr(x, stream)
    end

    # svd(x, compute_uv = true) -> [u, s, vt], or s when compute_uv is false.
    def svd(x, pos_compute_uv = true, pos_stream = nil, compute_uv: pos_compute_uv, stream: pos_stream)
      Native.svd(x, compute_uv, stream)
    end

    def inv(x, pos_stream = nil, stream: pos_stream)
      Native.inv(x, stream)
    end

    def pinv(x, pos_stream = nil, stream: pos_stream)
      Native.pinv(x, stream)
    end

    def tri_inv(x, pos_upper = false, pos_stream = nil, upper: pos_upper, stream: pos_stream)
      Native.tri_inv(x, upper, stream)
    end

    def cholesky(x, pos_upper = false, pos_stream = nil, upper: pos_upper, stream: pos_stream)
      Native.cholesky(x, upper, stream)
    end

    def cholesky_inv(x, pos_upper = false, pos_stream = nil, upper: pos_upper, stream: pos_stream)
      Native.cholesky_inv(x, upper, stream)
    end

    # lu(x) -> [p, l, u] with x[i] = (l @ u)[p[i]] (p uint32 row indices).
    def lu(x, pos_stream = nil, stream: pos_stream)
      Native.lu(x, stream)
    end

    # lu_factor(x) -> [lu, pivots].
    def lu_factor(x, pos_stream = nil, stream: pos_stream)
      Native.lu_factor(x, stream)
    end

    def solve(x, y, pos_stream = nil, stream: pos_stream)
      Native.solve(x, y, stream)
    end

    def solve_triangular(x, y, pos_upper = false, pos_stream = nil, upper: pos_upper, stream: pos_stream)
      Native.solve_triangular(x, y, upper, stream)
    end

    def cross(x, y, pos_axis = -1, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.cross(x, y, axis, stream)
    end

    # eig(x) -> [values, vectors], complex64 (vectors in columns).
    def eig(x, pos_stream = nil, stream: pos_stream)
      Native.eig(x, stream)
    end

    def eigvals(x, pos_stream = nil, stream: pos_stream)
      Native.eigvals(x, stream)
    end

    # eigh(x, uplo = "L") -> [values (ascending), vectors]. Python's keyword
    # is UPLO; uplo: is accepted too.
    def eigh(x, pos_uplo = "L", pos_stream = nil, uplo: pos_uplo, stream: pos_stream, **python_kw)
      Native.eigh(x, uplo_keyword(uplo, python_kw), stream)
    end

    def eigvalsh(x, pos_uplo = "L", pos_stream = nil, uplo: pos_uplo, stream: pos_stream, **python_kw)
      Native.eigvalsh(x, uplo_keyword(uplo, python_kw), stream)
    end

    # Python spells eigh's keyword UPLO (a constant-like name Ruby cannot
    # declare as a keyword parameter).
    def uplo_keyword(uplo, python_kw)
      return uplo if python_kw.empty?
      raise ::ArgumentError, "unknown keyword: #{(python_kw.keys - [:UPLO]).first.inspect}" unless python_kw.keys == [:UPLO]

      python_kw[:UPLO]
    end
    private_class_method :uplo_keyword

    def det(x, pos_stream = nil, stream: pos_stream)
      Native.det(x, stream)
    end

    # slogdet(x) -> [sign, logabsdet].
    def slogdet(x, pos_stream = nil, stream: pos_stream)
      Native.slogdet(x, stream)
    end

    # multivariate_normal(mean, cov, shape = [], dtype = float32, key = nil):
    # samples of N(mean, cov) drawn as upstream MLX draws them (same key,
    # same numbers). Only float32 is supported, as upstream.
    def multivariate_normal(mean, cov, pos_shape = [], pos_dtype = nil, pos_key = nil, pos_stream = nil,
                            shape: pos_shape, dtype: pos_dtype, key: pos_key, stream: pos_stream)
      Native.multivariate_normal(mean, cov, Args.shape(shape || []), dtype || FLOAT32, key, stream)
    end

    # Python MLX's mx.linalg namespace: the same functions.
    module Linalg
      FUNCTIONS = %i[norm qr svd inv pinv tri_inv cholesky cholesky_inv lu lu_factor solve solve_triangular cross
                     eig eigvals eigh eigvalsh det slogdet].freeze

      FUNCTIONS.each do |name|
        define_singleton_method(name) { |*args, **kw| MLX::Core.public_send(name, *args, **kw) }
      end
    end

    # mx.random.multivariate_normal.
    module Random
      def self.multivariate_normal(*args, **kw) = MLX::Core.multivariate_normal(*args, **kw)
    end
  end
end
