# frozen_string_literal: true

module MLX
  module Core
    UNARY_OPS = %i[
      abs negative sign sqrt rsqrt square reciprocal exp expm1 log log1p log2 log10
      sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh
      sigmoid erf erfinv floor ceil degrees radians real imag conjugate
      logical_not bitwise_invert isnan isinf isposinf isneginf isfinite stop_gradient
    ].freeze

    BINARY_OPS = %i[
      add subtract multiply divide power remainder floor_divide maximum minimum
      logaddexp arctan2 equal not_equal greater greater_equal less less_equal
      logical_and logical_or bitwise_and bitwise_or bitwise_xor left_shift right_shift
    ].freeze

    # Unary ops: name(x, stream = nil), x array-like.
    # (Generated with `def` rather than define_method: plain methods are
    # the cheapest calls Ruby has, and these are the hot path.)
    UNARY_OPS.each do |op|
      module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
        def self.#{op}(x, pos_stream = nil, stream: pos_stream)
          Native.#{op}(x, stream)
        end
      RUBY
    end

    # Binary ops: name(x, y, stream = nil); a Ruby scalar next to an array
    # is weak (keeps the array's dtype kind), as in MLX.
    BINARY_OPS.each do |op|
      module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
        def self.#{op}(x, y, pos_stream = nil, stream: pos_stream)
          Native.#{op}(x, y, stream)
        end
      RUBY
    end

    module_function

    def conj(x, pos_stream = nil, stream: pos_stream)
      Native.conjugate(x, stream)
    end

    def round(x, pos_decimals = 0, pos_stream = nil, decimals: pos_decimals, stream: pos_stream)
      Native.round(x, decimals, stream)
    end

    # divmod(x, y) -> [floor_divide(x, y), remainder(x, y)]
    def divmod(x, y, pos_stream = nil, stream: pos_stream)
      [Native.floor_divide(x, y, stream), Native.remainder(x, y, stream)]
    end

    # where(cond, x, y): x and y weak against each other.
    def where(cond, x, y, pos_stream = nil, stream: pos_stream)
      Native.where(cond, x, y, stream)
    end

    # clip(x, a_min = nil, a_max = nil): at least one bound.
    def clip(x, pos_min = nil, pos_max = nil, pos_stream = nil, a_min: pos_min, a_max: pos_max, stream: pos_stream)
      Native.clip(x, a_min, a_max, stream)
    end

    # isclose(x, y, rtol = 1e-5, atol = 1e-8, equal_nan = false) -> bool array:
    # |x - y| <= atol + rtol * |y|, infinities equal only to themselves.
    def isclose(x, y, pos_rtol = 1e-5, pos_atol = 1e-8, pos_equal_nan = false, rtol: pos_rtol, atol: pos_atol,
                equal_nan: pos_equal_nan, stream: nil)
      x = Args.array(x)
      y = Args.array(y)
      diff = Native.abs(Native.subtract(x, y, stream), stream)
      bound = Native.add(atol, Native.multiply(rtol, Native.abs(y, stream), stream), stream)
      close = Native.less_equal(diff, bound, stream)
      same = Native.equal(x, y, stream)
      out = Native.logical_or(close, same, stream)
      # A finite value is never close to an infinity: the difference is inf.
      if equal_nan
        both_nan = Native.logical_and(Native.isnan(x, stream), Native.isnan(y, stream), stream)
        out = Native.logical_or(out, both_nan, stream)
      end
      out
    end

    # allclose(a, b, rtol = 1e-5, atol = 1e-8, equal_nan = false) -> true/false
    def allclose(a, b, pos_rtol = 1e-5, pos_atol = 1e-8, pos_equal_nan = false, rtol: pos_rtol, atol: pos_atol,
                 equal_nan: pos_equal_nan, stream: nil)
      Native.all(isclose(a, b, rtol, atol, equal_nan, stream: stream), nil, false, stream).item
    end

    # array_equal(x, y, equal_nan = false) -> true/false: same shape and values.
    def array_equal(x, y, pos_equal_nan = false, equal_nan: pos_equal_nan, stream: nil)
      x = Args.array(x)
      y = Args.array(y)
      return false unless x.shape == y.shape

      eq = Native.equal(x, y, stream)
      if equal_nan
        eq = Native.logical_or(eq, Native.logical_and(Native.isnan(x, stream), Native.isnan(y, stream), stream),
                               stream)
      end
      Native.all(eq, nil, false, stream).item
    end

    # nan_to_num(a, nan = 0.0, posinf = nil, neginf = nil): nil infinities
    # become the dtype's largest / lowest finite value.
    def nan_to_num(a, pos_nan = 0.0, pos_posinf = nil, pos_neginf = nil, nan: pos_nan, posinf: pos_posinf,
                   neginf: pos_neginf, stream: nil)
      a = Args.array(a)
      return a unless issubdtype(a.dtype, :inexact)

      info = Finfo.new(a.dtype)
      posinf ||= info.max
      neginf ||= info.min
      out = Native.where(Native.isnan(a, stream), nan, a, stream)
      out = Native.where(Native.isposinf(a, stream), posinf, out, stream)
      Native.where(Native.isneginf(a, stream), neginf, out, stream)
    end
  end
end
