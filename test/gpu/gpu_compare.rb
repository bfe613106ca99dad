# frozen_string_literal: true

# What the GPU test files (test/gpu/*_gpu.rb) share: the device standing
# for the GPU, element comparison (floats bit for bit with -0.0 told from
# 0.0 and NaN matching NaN, or within a relative or an absolute bound),
# and the collection of differing cases, reported all at once by
# teardown so one bad case does not hide the others. A test class
# includes GPUCompare and defines COUNTS (a Hash counting :ok and
# :failed cases).
module GPUCompare
  # MLX_GPU_TEST_DEVICE=cpu runs a file with the CPU standing in for the
  # GPU: a check of the harness itself on machines without one.
  GPU = ENV["MLX_GPU_TEST_DEVICE"] == "cpu" ? :cpu : :gpu

  DTYPES = %i[bool uint8 uint16 uint32 uint64 int8 int16 int32 int64 float16 float32 float64 bfloat16 complex64].freeze
  FLOATS = %i[float16 float32 float64 bfloat16].freeze
  # Relative tolerance per result dtype where two results may differ in
  # rounding (a class may define its own).
  TOL = { float16: 2e-3, bfloat16: 1.6e-2, float32: 2e-5, float64: 1e-12, complex64: 2e-5 }.freeze

  # Whether the GPU tests can run here (a GPU, or the CPU standing in).
  def self.runnable? = GPU == :cpu || MLX::Core.gpu_is_available

  def teardown
    assert_empty(@fails || [], "GPU results differing from the CPU's")
  end

  # Records a failed case; returns :failed.
  def fail_pair(label, msg)
    self.class::COUNTS[:failed] += 1
    (@fails ||= []) << "#{label}: #{msg}"
    :failed
  end

  def dname(a) = a.dtype.inspect[/ :(\w+)/, 1]

  def dt_obj(name) = MLX::Core.public_send(name == :bool ? :bool_ : name)

  def flat(a)
    v = a.to_a
    v.is_a?(Array) ? v.flatten : [v]
  end

  def same_f?(c, g)
    return c.nan? && g.nan? if c.nan? || g.nan?

    c == g && (c != 0.0 || (1.0 / c) == (1.0 / g))
  end

  # Bit-for-bit equality of two elements.
  def same?(c, g)
    return same_f?(c, g) if c.is_a?(Float) && g.is_a?(Float)
    if c.is_a?(Complex) && g.is_a?(Complex)
      return same_f?(c.real.to_f, g.real.to_f) && same_f?(c.imaginary.to_f, g.imaginary.to_f)
    end

    c == g
  end

  # Within tol relative to c (absolute tol near 0). Complex values by the
  # distance between them against c's magnitude (a long product's small
  # part carries the rounding of its large one); with a NaN or infinite
  # part, parts apart.
  def close?(c, g, tol)
    if c.is_a?(Complex)
      parts = [c.real, c.imaginary, g.real, g.imaginary].map(&:to_f)
      return (c - g).abs <= tol * [c.abs, 1e-3].max + tol if parts.all?(&:finite?)

      return close?(parts[0], parts[2], tol) && close?(parts[1], parts[3], tol)
    end
    return false unless c.is_a?(Numeric) && g.is_a?(Numeric)
    return true if c.to_f.nan? && g.to_f.nan?
    return c == g if c.to_f.infinite? || g.to_f.infinite?

    (c - g).abs <= tol * [c.abs, 1e-3].max + tol
  end

  # Within an absolute bound; complex parts apart.
  def close_scaled?(c, g, bound)
    if c.is_a?(Complex)
      return close_scaled?(c.real.to_f, g.real.to_f, bound) && close_scaled?(c.imaginary.to_f, g.imaginary.to_f, bound)
    end
    return true if c.to_f.nan? && g.to_f.nan?
    return c == g if c.to_f.infinite? || g.to_f.infinite?

    (c - g).abs <= bound
  end

  # The larger magnitude of a value's parts (NaN when either part is NaN).
  def mag(c)
    return c.to_f.abs unless c.is_a?(Complex)

    re = c.real.to_f.abs
    im = c.imaginary.to_f.abs
    re.nan? || im.nan? ? Float::NAN : [re, im].max
  end
end
