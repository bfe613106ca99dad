# frozen_string_literal: true

# The GPU against the CPU: every op with a CUDA kernel (copy/astype/
# contiguous, the unary and binary elementwise ops, where, clip, and the
# sum/prod/max/min/mean/all/any reductions; phase 2a: views, creation,
# matmul, softmax, logsumexp) over random inputs of every
# dtype, in contiguous, broadcast, transposed and scalar layouts. Inputs
# are made on the CPU; the GPU run uploads them. Needs a build with
# MLX_CUDA=1 and a GPU (test/gpu/run.sh); skips otherwise.
#
# Integer and bool results, and float results of ops that compute with the
# same formulas on both sides, must agree exactly (NaN matching NaN);
# where the GPU uses CUDA's libm (float64 transcendental functions, powf,
# atan2f, log1pf inside logaddexp, complex64) or sums in another order, a
# relative tolerance per dtype applies. Each (op, dtype) pair counts as one
# assertion; pairs the GPU rejects as "not implemented on gpu" are listed
# at the end, and fail only for ops that phase 1 promises.
require "minitest/autorun"
require "mlx"
require_relative "gpu_compare"

# Without a GPU (the CPU-only build, or no device) the file is one skipped
# test, so the default suite stays quiet.
unless GPUCompare.runnable?
  class GPUOpsTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUOpsTest < Minitest::Test
  include GPUCompare
  MX = MLX::Core

  # Ops whose float32/float16/bfloat16 results use the CPU's own formulas:
  # they must match bit for bit.
  EXACT_FLOAT = %i[
    abs negative sign sqrt rsqrt square exp expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan
    sinh cosh tanh arcsinh arccosh arctanh sigmoid erf floor ceil round add subtract multiply divide
    remainder floor_divide maximum minimum equal not_equal greater greater_equal less less_equal isnan isinf
    isposinf isneginf isfinite logical_not astype contiguous stop_gradient where clip max min
  ].freeze
  # complex64 pairs that phase 1 leaves to the CPU (see docs/cuda.md).
  KNOWN_UNSUPPORTED = %w[
    arcsin:complex64 arccos:complex64 arctan:complex64 arcsinh:complex64 arccosh:complex64 arctanh:complex64
    log1p:complex64 logaddexp:complex64
  ].freeze

  UNSUPPORTED = []
  INEXACT = Hash.new(0)
  COUNTS = Hash.new(0)
  Minitest.after_run do
    next if COUNTS.empty?

    puts "\nGPU vs CPU cases: #{COUNTS[:ok]} matched, #{COUNTS[:failed]} differed, #{COUNTS[:unsupported]} not on gpu"
    puts "\nGPU pairs left to the CPU (not implemented on gpu): #{UNSUPPORTED.uniq.join(', ')}" unless UNSUPPORTED.empty?
    unless INEXACT.empty?
      puts "Pairs within tolerance but not bit-identical (elements differing):"
      INEXACT.sort.each { |k, v| puts "  #{k}: #{v}" }
    end
  end

  def setup
    @rng = Random.new(1234)
  end

  # Random values of a dtype (with special values for floats).
  def values(dtype, n, domain: nil)
    Array.new(n) do |i|
      case dtype
      when :bool then @rng.rand(2) == 1
      when :uint8 then @rng.rand(256)
      when :uint16 then @rng.rand(65_536)
      when :uint32 then @rng.rand(2**32)
      when :uint64 then @rng.rand(2**64)
      when :int8 then @rng.rand(256) - 128
      when :int16 then @rng.rand(65_536) - 32_768
      when :int32 then @rng.rand(2**32) - 2**31
      when :int64 then @rng.rand(2**64) - 2**63
      when :complex64 then Complex(@rng.rand * 6 - 3, @rng.rand * 6 - 3)
      else
        specials = [0.0, -0.0, Float::INFINITY, -Float::INFINITY, Float::NAN, 1.0, -1.0, 0.5]
        next specials[i] if i < specials.size && domain.nil?

        domain ? domain.begin + @rng.rand * (domain.end - domain.begin) : (@rng.rand * 8 - 4)
      end
    end
  end

  def arr(dtype, shape, **kw)
    n = shape.inject(1, :*)
    MX.array(values(dtype, n, **kw), dt_obj(dtype)).reshape(shape)
  end

  # Equal elements, NaN matching NaN; unlike GPUCompare#same?, -0.0 and 0.0
  # count as the same here (the elementwise kernels need not agree on the
  # sign of a zero result).
  def same?(c, g)
    return true if c == g
    return c.nan? && g.nan? if c.is_a?(Float) && g.is_a?(Float)
    if c.is_a?(Complex) && g.is_a?(Complex)
      return same?(c.real.to_f, g.real.to_f) && same?(c.imaginary.to_f, g.imaginary.to_f)
    end

    false
  end

  # Runs blk on the CPU and on the GPU and compares; returns :ok,
  # :unsupported or :cpu_error.
  def check(label, exact: false)
    cpu = begin
      yield(:cpu)
    rescue MLX::Error, ArgumentError, TypeError
      return :cpu_error
    end
    begin
      gpu = yield(GPU)
      gv = flat(gpu)
    rescue MLX::Error => e
      raise unless e.message.include?("not implemented on gpu")

      UNSUPPORTED << label
      COUNTS[:unsupported] += 1
      refute label.start_with?(*%w[add: subtract: multiply: astype: contiguous: sum: max: min: mean:]),
             "#{label}: #{e.message}"
      return :unsupported
    end
    return fail_pair(label, "shape cpu #{cpu.shape} gpu #{gpu.shape}") unless cpu.shape == gpu.shape
    return fail_pair(label, "dtype cpu #{dname(cpu)} gpu #{dname(gpu)}") unless dname(cpu) == dname(gpu)

    cv = flat(cpu)
    tol = TOL[dname(cpu).to_sym]
    # float64 ops that both sides compute in float32 (as upstream does)
    tol = TOL[:float32] if dname(cpu) == "float64" && label.start_with?(*%w[exp: sin: cos: erf: erfinv: sigmoid: rope])
    diff = 0
    cv.zip(gv).each_with_index do |(c, g), i|
      next if same?(c, g)

      diff += 1
      next if tol && !exact && close?(c, g, tol)

      return fail_pair(label, "element #{i}: cpu #{c.inspect} gpu #{g.inspect}")
    end
    INEXACT[label] += diff if diff.positive?
    COUNTS[:ok] += 1
    :ok
  end

  # Integer and bool inputs of ops that compute in float32 follow the
  # float32 rules; sin, cos and tan of such inputs reach values past 2^23,
  # where both sides call their libm.
  INT_TO_FLOAT = %i[sqrt rsqrt exp expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan sinh cosh tanh
                    arcsinh arccosh arctanh sigmoid erf erfinv divide logaddexp arctan2 mean].freeze

  def exact_for?(op, dtype)
    if !%i[float16 float32 bfloat16 float64 complex64].include?(dtype)
      return true unless INT_TO_FLOAT.include?(op)
      return false if %i[sin cos tan].include?(op)

      dtype = :float32
    end
    return false if dtype == :complex64

    if dtype == :float64
      %i[abs negative sign sqrt rsqrt square exp sin cos sigmoid erf floor ceil round add subtract multiply divide
         remainder floor_divide maximum minimum equal not_equal greater greater_equal less less_equal isnan isinf
         isposinf isneginf isfinite logical_not astype contiguous stop_gradient where clip max min].include?(op)
    else
      EXACT_FLOAT.include?(op)
    end
  end

  def domain_for(op)
    case op
    when :arcsin, :arccos, :arctanh, :erfinv then (-1.0..1.0)
    when :arccosh then (1.0..6.0)
    when :log, :log2, :log10, :sqrt, :rsqrt then (0.0..50.0)
    end
  end

  UNARY = (MX::UNARY_OPS - %i[reciprocal degrees radians]).freeze

  UNARY.each do |op|
    define_method("test_unary_#{op}") do
      DTYPES.each do |dt|
        [[[3, 4, 5], false], [[6, 7], true], [[], false]].each do |shape, transposed|
          x = arr(dt, shape, domain: FLOATS.include?(dt) ? domain_for(op) : nil)
          x = MX.transpose(x, stream: :cpu) if transposed
          MX.eval(x)
          check("#{op}:#{dt}", exact: exact_for?(op, dt)) { |dev| MX.public_send(op, x, stream: dev) }
        end
        # specials (inf, nan, +-0) on the whole real line
        if FLOATS.include?(dt)
          x = arr(dt, [64])
          check("#{op}:#{dt}", exact: exact_for?(op, dt)) { |dev| MX.public_send(op, x, stream: dev) }
        end
      end
    end
  end

  def binary_inputs(op, dt)
    shapes = [[[4, 5], [4, 5]], [[3, 1, 5], [4, 1]], [[1], [7, 3]], [[6, 5], [6, 5]]]
    shapes.each_with_index.map do |(sa, sb), k|
      a = arr(dt, sa)
      b = arr(dt, sb)
      if %i[left_shift right_shift].include?(op) && !FLOATS.include?(dt)
        bits = { uint8: 8, int8: 8, uint16: 16, int16: 16 }.fetch(dt, 32)
        b = MX.array(values(:uint8, sb.inject(1, :*)).map { |v| v % bits }, dt_obj(dt)).reshape(sb)
      elsif op == :power && !FLOATS.include?(dt) && dt != :complex64
        b = MX.array(values(:uint8, sb.inject(1, :*)).map { |v| dt == :bool ? v.odd? : (v % 9) - (dt.to_s.start_with?("u") ? 0 : 2) },
                     dt_obj(dt)).reshape(sb)
      end
      # the last pair: both operands transposed views
      if k == 3
        a = MX.transpose(arr(dt, sa.reverse), stream: :cpu)
        b = MX.transpose(arr(dt, sb.reverse), stream: :cpu)
      end
      MX.eval(a, b)
      [a, b]
    end
  end

  MX::BINARY_OPS.each do |op|
    define_method("test_binary_#{op}") do
      DTYPES.each do |dt|
        binary_inputs(op, dt).each do |a, b|
          check("#{op}:#{dt}", exact: exact_for?(op, dt)) { |dev| MX.public_send(op, a, b, stream: dev) }
        end
      end
    end
  end

  def test_where_and_clip
    DTYPES.each do |dt|
      c = arr(:bool, [3, 1, 5])
      x = arr(dt, [4, 5])
      y = MX.transpose(arr(dt, [5, 4]), stream: :cpu)
      MX.eval(c, x, y)
      check("where:#{dt}", exact: true) { |dev| MX.where(c, x, y, stream: dev) }
      next if %i[bool complex64].include?(dt)

      lo = arr(dt, [5])
      hi = MX.maximum(lo, arr(dt, [1]), stream: :cpu)
      check("clip:#{dt}", exact: true) { |dev| MX.clip(x, lo, hi, stream: dev) }
    end
  end

  def test_astype_every_pair
    DTYPES.each do |from|
      x = arr(from, [5, 6])
      xt = MX.transpose(x, stream: :cpu)
      MX.eval(xt)
      DTYPES.each do |to|
        [x, xt].each do |src|
          # float -> integer conversions of out-of-range values are undefined
          # in C (x86 and CUDA saturate differently): keep floats in range.
          src = MX.clip(src, -100, 100, stream: :cpu) if FLOATS.include?(from) && !FLOATS.include?(to) && to != :complex64 && to != :bool
          src = MX.abs(src, stream: :cpu) if FLOATS.include?(from) && to.to_s.start_with?("u")
          check("astype:#{from}->#{to}", exact: true) { |dev| MX.astype(src, dt_obj(to), stream: dev) }
        end
      end
      check("contiguous:#{from}", exact: true) { |dev| MX.contiguous(xt, stream: dev) }
    end
  end

  def test_reductions
    %i[sum prod max min mean all any].each do |op|
      DTYPES.each do |dt|
        x = arr(dt, [6, 7, 300])
        x = MX.clip(x, -1.2, 1.2, stream: :cpu) if op == :prod && FLOATS.include?(dt)
        xt = MX.transpose(x, [2, 0, 1], stream: :cpu)
        MX.eval(x, xt)
        [nil, 0, 1, 2, [0, 2], [1, 2], [0, 1]].each do |axes|
          [x, xt].each do |src|
            exact = %i[max min all any].include?(op) || !%i[float16 float32 float64 bfloat16 complex64].include?(dt)
            check("#{op}:#{dt}", exact: exact) { |dev| MX.public_send(op, src, axis: axes, stream: dev) }
          end
        end
      end
    end
    # an empty reduction and a large contiguous one
    e = MX.zeros([0, 4], MX.float32)
    check("sum:empty", exact: true) { |dev| MX.sum(e, axis: 0, stream: dev) }
    check("mean:empty", exact: true) { |dev| MX.mean(e, axis: 0, stream: dev) }
    big = arr(:float32, [1 << 20])
    check("sum:float32", exact: false) { |dev| MX.sum(big, stream: dev) }
  end

  # GPU results feeding GPU ops, CPU ops and host reads, with no CPU
  # round trip in between; a second stream ordered by events.
  def test_chains_and_streams
    x = arr(:float32, [1000], domain: (-3.0..3.0))
    y = MX.exp(MX.sin(x, stream: GPU), stream: GPU)
    z = MX.add(y, 1, stream: GPU)
    w = MX.multiply(z, 2, stream: :cpu)
    cy = MX.exp(MX.sin(x, stream: :cpu), stream: :cpu)
    assert_equal MX.multiply(MX.add(cy, 1, stream: :cpu), 2, stream: :cpu).to_a, w.to_a
    s2 = MX.new_stream(GPU)
    v = MX.subtract(z, y, stream: s2)
    assert_equal MX.subtract(MX.add(cy, 1, stream: :cpu), cy, stream: :cpu).to_a, v.to_a
    MX.synchronize(s2)
    assert_in_delta MX.sum(cy, stream: :cpu).item, MX.sum(y, stream: GPU).item, 1e-2
  end

  def test_unimplemented_prim_fails_on_gpu
    skip "the CPU stands in for the GPU" if GPU == :cpu
    x = arr(:float32, [4, 4])
    err = assert_raises(MLX::Error) { MX.fft(x, stream: GPU).to_a }
    assert_includes err.message, "not implemented on gpu"
  end

  # ---- phase 2a ----------------------------------------------------------

  # Views on a GPU stream: metadata only (the CPU view kernels), a device
  # copy for reshapes the layout cannot express; then a GPU op reads them.
  def test_views
    x = arr(:float32, [4, 6, 5])
    xt = MX.transpose(x, [2, 0, 1], stream: :cpu)
    MX.eval(x, xt)
    [x, xt].each do |src|
      check("reshape:float32", exact: true) { |d| MX.reshape(src, [5, 24], stream: d) }
      check("reshape+abs:float32", exact: true) { |d| MX.abs(MX.reshape(src, [120], stream: d), stream: d) }
      check("transpose:float32", exact: true) { |d| MX.transpose(src, [1, 2, 0], stream: d) }
      check("transpose+neg:float32", exact: true) { |d| MX.negative(MX.transpose(src, [1, 2, 0], stream: d), stream: d) }
      check("broadcast_to:float32", exact: true) { |d| MX.broadcast_to(MX.reshape(src, [1, *src.shape], stream: d), [2, *src.shape], stream: d) }
      check("slice:float32", exact: true) { |d| MX.slice(src, [1, 0, 1], [3, 5, 4], [1, 2, 1], stream: d) }
      check("expand_dims:float32", exact: true) { |d| MX.expand_dims(src, 1, stream: d) }
      check("squeeze:float32", exact: true) { |d| MX.squeeze(MX.expand_dims(src, 0, stream: d), stream: d) }
      check("flatten:float32", exact: true) { |d| MX.flatten(src, stream: d) }
      check("split:float32", exact: true) { |d| MX.concatenate(MX.split(src, 2, axis: 1, stream: d).map { |p| MX.exp(p, stream: d) }, axis: 1, stream: :cpu) }
      check("diagonal:float32", exact: true) { |d| MX.diagonal(src, 1, 1, 2, stream: d) }
      check("as_strided:float32", exact: true) { |d| MX.as_strided(MX.contiguous(src, stream: d), [3, 4], [2, 5], 3, stream: d) }
    end
    DTYPES.each do |dt|
      y = MX.transpose(arr(dt, [7, 3]), stream: :cpu)
      MX.eval(y)
      check("reshape:#{dt}", exact: true) { |d| MX.reshape(y, [21], stream: d) }
    end
    # view: the same bytes as another dtype, in place when the offset
    # allows, else copied on the device (a uint8 slice starting at byte 1).
    bytes = MX.array((0...64).map { |i| (i * 37 + 11) % 256 }, MX.uint8)
    MX.eval(bytes)
    r = check("view:float32", exact: true) { |d| MX.view(MX.slice(bytes, [4], [64], stream: d), MX.float32, stream: d) }
    refute_equal :unsupported, r
    r = check("view_copy:int16", exact: true) { |d| MX.view(MX.slice(bytes, [1], [63], stream: d), MX.int16, stream: d) }
    refute_equal :unsupported, r
    f = arr(:float32, [3, 4])
    MX.eval(f)
    check("view:uint8", exact: true) { |d| MX.view(f, MX.uint8, stream: d) }
  end

  def test_creation
    DTYPES.each do |dt|
      o = dt_obj(dt)
      check("zeros:#{dt}", exact: true) { |d| MX.zeros([3, 5], o, stream: d) }
      check("ones:#{dt}", exact: true) { |d| MX.ones([1000], o, stream: d) }
      check("full:#{dt}", exact: true) { |d| MX.full([4, 3], 2.5, o, stream: d) }
      v = arr(dt, [3])
      MX.eval(v)
      check("full_array:#{dt}", exact: true) { |d| MX.full([4, 3], v, o, stream: d) }
      check("eye:#{dt}", exact: true) { |d| MX.eye(5, m: 7, k: 2, dtype: o, stream: d) }
      check("eye:#{dt}", exact: true) { |d| MX.eye(6, k: -1, dtype: o, stream: d) }
      check("tri:#{dt}", exact: true) { |d| MX.tri(5, m: 4, k: -1, dtype: o, stream: d) }
      next if %i[bool complex64].include?(dt)

      check("arange:#{dt}", exact: true) { |d| MX.arange(0, 20, 3, dtype: o, stream: d) }
      check("linspace:#{dt}", exact: true) { |d| MX.linspace(-1, 7, num: 13, dtype: o, stream: d) } if FLOATS.include?(dt)
    end
  end

  MM_TOL = { float32: 1e-4, float64: 1e-12, float16: 1e-2, bfloat16: 4e-2, complex64: 1e-4 }.freeze

  def mm_check(label, a, b)
    mm_compare(label, MX.matmul(a, b, stream: :cpu), MX.matmul(a, b, stream: GPU))
  end

  # cpu and gpu (a product's results) agree within MM_TOL of the largest.
  def mm_compare(label, cpu, gpu)
    return fail_pair(label, "shape cpu #{cpu.shape} gpu #{gpu.shape}") unless cpu.shape == gpu.shape

    tol = MM_TOL.fetch(dname(cpu).to_sym)
    scale = [MX.max(MX.abs(cpu, stream: :cpu), stream: :cpu).item.abs, 1.0].max
    cv = flat(cpu)
    gv = flat(gpu)
    cv.zip(gv).each_with_index do |(c, g), i|
      next if (c - g).abs <= tol * scale

      return fail_pair(label, "element #{i}: cpu #{c.inspect} gpu #{g.inspect}")
    end
    COUNTS[:ok] += 1
  end

  def test_matmul
    %i[float32 float64 float16 bfloat16 complex64].each do |dt|
      cases = [
        [[5, 7], [7, 3]], [[1, 9], [9, 1]], [[9], [9, 4]], [[4, 9], [9]], [[9], [9]],
        [[2, 3, 6, 5], [5, 4]], [[6, 5], [3, 5, 4]], [[2, 1, 6, 5], [3, 5, 4]], [[33, 65], [65, 17]]
      ]
      cases.each do |sa, sb|
        a = arr(dt, sa, domain: (-1.0..1.0))
        b = arr(dt, sb, domain: (-1.0..1.0))
        MX.eval(a, b)
        mm_check("matmul:#{dt}:#{sa}x#{sb}", a, b)
      end
      # transposed operands, a strided one, a batched transposed one
      a = MX.transpose(arr(dt, [7, 5], domain: (-1.0..1.0)), stream: :cpu)
      b = MX.transpose(arr(dt, [3, 7], domain: (-1.0..1.0)), stream: :cpu)
      c = MX.slice(arr(dt, [7, 8], domain: (-1.0..1.0)), [0, 0], [7, 8], [1, 2], stream: :cpu)
      bt = MX.transpose(arr(dt, [2, 4, 7], domain: (-1.0..1.0)), [0, 2, 1], stream: :cpu)
      MX.eval(a, b, c, bt)
      mm_check("matmul:#{dt}:AtBt", a, b)
      mm_check("matmul:#{dt}:strided", a, c)
      mm_check("matmul:#{dt}:batchedT", a, bt)
    end
    # mixed dtypes (promoted) and a zero inner dimension
    mm_check("matmul:mixed", arr(:float16, [3, 4], domain: (-1.0..1.0)), arr(:float32, [4, 2], domain: (-1.0..1.0)))
    mm_check("matmul:k0", MX.zeros([3, 0]), MX.zeros([0, 2]))
    # a GPU chain: matmul of GPU-made views
    x = arr(:float32, [64, 48], domain: (-1.0..1.0))
    MX.eval(x)
    g = MX.matmul(MX.transpose(x, stream: GPU), MX.reshape(x, [64, 48], stream: GPU), stream: GPU)
    c = MX.matmul(MX.transpose(x, stream: :cpu), x, stream: :cpu)
    assert_in_delta 0, MX.max(MX.abs(MX.subtract(g, c, stream: :cpu), stream: :cpu), stream: :cpu).item, 1e-3
  end

  # gather_mm: one product per gathered pair (indices read on the host),
  # every float dtype, broadcast indices, no indices, a zero inner
  # dimension; an index past the batch is an IndexError on the GPU too.
  def test_gather_mm
    %i[float32 float16 bfloat16 float64 complex64].each do |dt|
      a = arr(dt, [3, 4, 5], domain: (-1.0..1.0))
      b = arr(dt, [2, 5, 6], domain: (-1.0..1.0))
      MX.eval(a, b)
      li = MX.array([[0, 2, 1], [1, 1, 0]], MX.int32)
      ri = MX.array([1, 0, 1], MX.uint8)
      cases = {
        "pairs" => ->(d) { MX.gather_mm(a, b, li, ri, stream: d) },
        "rhs_only" => ->(d) { MX.gather_mm(MX.reshape(a, [1, 12, 5], stream: d), b, nil, MX.array([1, 1, 0]), stream: d) },
        "none" => ->(d) { MX.gather_mm(MX.take(a, MX.array([0, 1]), axis: 0, stream: d), b, stream: d) }
      }
      cases.each { |name, l| mm_compare("gather_mm:#{dt}:#{name}", l.call(:cpu), l.call(GPU)) }
    end
    mm_check_k0 = MX.gather_mm(MX.zeros([2, 3, 0]), MX.zeros([2, 0, 4]), MX.array([1]), MX.array([0]), stream: GPU)
    assert_equal [0.0] * 12, mm_check_k0.to_a.flatten
    a = arr(:float32, [2, 3, 4])
    err = assert_raises(IndexError) { MX.eval(MX.gather_mm(a, a.swapaxes(1, 2), MX.array([5]), MX.array([0]), stream: GPU)) }
    assert_includes err.message, "out of range"
  end

  # add(matmul(a, b), c) runs as one product on the GPU (cuda/fuse.c) when
  # nothing else holds the product: c a bias row or a full matrix (on
  # either side of the add), a strided slice of a wider array (a recurrent
  # step), a batch folded into rows; a misaligned bias is declined (two
  # kernels), a product also evaluated itself is not fused. Every form
  # agrees with the CPU, and so do a Linear layer's gradients.
  def test_addmm_fusion
    f = ->(shape) { arr(:float32, shape, domain: (-1.0..1.0)) }
    a = f.([6, 5])
    b = f.([5, 7])
    bias = f.([7])
    full = f.([6, 7])
    a3 = f.([2, 3, 5])
    wide = f.([6, 3, 7])
    vec = f.([9])
    wt = MX.transpose(f.([7, 5]), stream: :cpu)
    tall = f.([20, 5])
    seq = f.([3, 9, 5])
    rnn = MLX::NN::RNN.new(5, 7)
    MX.eval(a, b, bias, full, a3, wide, vec, wt, tall, seq, rnn.parameters)
    cases = {
      "bias" => ->(d) { MX.add(MX.matmul(a, b, stream: d), bias, stream: d) },
      "bias_left" => ->(d) { MX.add(bias, MX.matmul(a, b, stream: d), stream: d) },
      "full" => ->(d) { MX.add(MX.matmul(a, b, stream: d), full, stream: d) },
      "strided" => ->(d) { MX.add(MX.matmul(a, b, stream: d), MX.take(wide, 1, 1, stream: d), stream: d) },
      "batch_bias" => ->(d) { MX.add(MX.matmul(a3, b, stream: d), bias, stream: d) },
      "batch_full" => ->(d) { MX.add(MX.matmul(a3, b, stream: d), MX.reshape(full, [2, 3, 7], stream: d), stream: d) },
      "misaligned" => ->(d) { MX.add(MX.matmul(a, b, stream: d), MX.slice(vec, [1], [8], [1], stream: d), stream: d) },
      "addmm" => ->(d) { MX.addmm(bias, a, b, stream: d) },
      "tanh_step" => ->(d) { MX.tanh(MX.addmm(MX.take(wide, 2, 1, stream: d), a, b, stream: d), stream: d) },
      # weights transposed (unit stride along k): the few-row kernel
      "tanh_gemv" => ->(d) { MX.tanh(MX.addmm(MX.take(wide, 2, 1, stream: d), a, wt, stream: d), stream: d) },
      "relu_gemv" => ->(d) { MX.maximum(MX.add(MX.matmul(a, wt, stream: d), bias, stream: d), 0, stream: d) },
      "relu_left_gemv" => ->(d) { MX.maximum(0, MX.add(bias, MX.matmul(a, wt, stream: d), stream: d), stream: d) },
      "relu_many_rows" => ->(d) { MX.maximum(MX.add(MX.matmul(tall, wt, stream: d), bias, stream: d), 0, stream: d) },
      "rnn" => ->(d) { rnn_on(d, rnn, seq) }
    }
    cases.each do |name, l|
      cpu = l.call(:cpu)
      gpu = l.call(GPU)
      MX.eval(gpu)
      mm_compare("addmm_fusion:#{name}", cpu, gpu)
    end
    gemv_shapes_agree(f)
    held = MX.matmul(a, b, stream: GPU)
    sum = MX.add(held, bias, stream: GPU)
    MX.eval(held, sum)
    mm_compare("addmm_fusion:held", MX.add(MX.matmul(a, b, stream: :cpu), bias, stream: :cpu), sum)
    mm_compare("addmm_fusion:held_product", MX.matmul(a, b, stream: :cpu), held)
    # A Linear output held beyond its relu (a live wrapper): the few-row
    # kernel stores both; a later op reads the held sum; a consumer of the
    # sum that runs before the relu keeps them apart.
    pre = MX.add(MX.matmul(a, wt, stream: GPU), bias, stream: GPU)
    post = MX.maximum(pre, 0, stream: GPU)
    MX.eval(post)
    cpre = MX.add(MX.matmul(a, wt, stream: :cpu), bias, stream: :cpu)
    mm_compare("addmm_fusion:relu_held_pre", cpre, pre)
    mm_compare("addmm_fusion:relu_held_post", MX.maximum(cpre, 0, stream: :cpu), post)
    mm_compare("addmm_fusion:relu_held_later", MX.multiply(cpre, 2, stream: :cpu), MX.multiply(pre, 2, stream: GPU))
    pre2 = MX.add(MX.matmul(a, wt, stream: GPU), bias, stream: GPU)
    twice = MX.multiply(pre2, 2, stream: GPU)
    both = MX.add(twice, MX.maximum(pre2, 0, stream: GPU), stream: GPU)
    mm_compare("addmm_fusion:relu_held_between",
               MX.add(MX.multiply(cpre, 2, stream: :cpu), MX.maximum(cpre, 0, stream: :cpu), stream: :cpu), both)
    grads = %i[cpu gpu].map do |dev|
      MX.set_default_device(dev == :cpu ? MX.cpu : MX.gpu) unless GPU == :cpu
      layer = MLX::NN::Linear.new(5, 7)
      layer.update({ "weight" => MX.transpose(b, stream: :cpu), "bias" => bias })
      loss = ->(x) { MX.sum(MX.square(layer.call(x))) }
      MX.value_and_grad(loss).call(a)
    ensure
      MX.set_default_device(MX.cpu)
    end
    mm_compare("addmm_fusion:linear_value", grads[0][0], grads[1][0])
    mm_compare("addmm_fusion:linear_grad", grads[0][1], grads[1][1])
  end

  # The few-row kernel at wider shapes: k split across warps (a wide
  # Linear on 8 rows), four floats a load (k a multiple of 4, aligned
  # rows) or one (k = 1030; rows starting one float into a wider array),
  # 1 to 16 rows.
  def gemv_shapes_agree(f)
    [[8, 8192, 1024], [16, 1024, 300], [1, 512, 64], [3, 1030, 33]].each do |m, k, n|
      a = f.([m, k])
      wider = f.([m, k + 4])
      w = f.([n, k])
      bias = f.([n])
      MX.eval(a, wider, w, bias)
      [["dense", a], ["offset", MX.slice(wider, [0, 1], [m, k + 1], [1, 1], stream: :cpu)]].each do |form, x|
        l = ->(d) { MX.maximum(MX.add(MX.matmul(x, MX.transpose(w, stream: d), stream: d), bias, stream: d), 0, stream: d) }
        gpu = l.call(GPU)
        MX.eval(gpu)
        mm_compare("addmm_fusion:gemv_#{m}x#{k}x#{n}_#{form}", l.call(:cpu), gpu)
      end
    end
  end

  # Runs of float32 elementwise ops become one kernel on the GPU
  # (cuda/ewvm.cu): an AdamW update (exact: +, -, *, /, sqrt only), a
  # chain whose middle value is also held (stored too), one mixing a
  # device scalar, a host scalar and one-element ops, exp/log/tanh
  # chains, a chain over a transposed input, and inputs broadcast by the
  # op itself (a bias row).
  def test_elementwise_runs
    f = ->(shape, lo = -1.0, hi = 1.0) { arr(:float32, shape, domain: (lo..hi)) }
    p = f.([33, 17])
    g = f.([33, 17])
    m = f.([33, 17])
    v = f.([33, 17], 0.0, 1.0)
    lr = f.([])
    t = MX.transpose(f.([17, 33]), stream: :cpu)
    MX.eval(p, g, m, v, lr, t)
    adamw = lambda do |d|
      lrd = MX.multiply(lr, 1.0, stream: d)
      decay = MX.subtract(1, MX.multiply(lrd, 0.01, stream: d), stream: d)
      p2 = MX.multiply(p, decay, stream: d)
      m2 = MX.add(MX.multiply(0.9, m, stream: d), MX.multiply(1 - 0.9, g, stream: d), stream: d)
      v2 = MX.add(MX.multiply(0.999, v, stream: d), MX.multiply(1 - 0.999, MX.square(g, stream: d), stream: d),
                  stream: d)
      upd = MX.divide(MX.multiply(lrd, m2, stream: d), MX.add(MX.sqrt(v2, stream: d), 1e-8, stream: d), stream: d)
      out = [MX.subtract(p2, upd, stream: d), m2, v2]
      MX.eval(*out)
      out
    end
    cpu = adamw.call(:cpu)
    gpu = adamw.call(GPU)
    %w[param m v].each_with_index { |name, i| check("ew_run:adamw_#{name}", exact: true) { |d| d == :cpu ? cpu[i] : gpu[i] } }
    held = lambda do |d|
      mid = MX.multiply(MX.add(p, g, stream: d), 3.0, stream: d)
      fin = MX.subtract(MX.sqrt(MX.abs(mid, stream: d), stream: d), m, stream: d)
      MX.eval(mid, fin)
      [mid, fin]
    end
    hc = held.call(:cpu)
    hg = held.call(GPU)
    check("ew_run:held_mid", exact: true) { |d| d == :cpu ? hc[0] : hg[0] }
    check("ew_run:held_end", exact: true) { |d| d == :cpu ? hc[1] : hg[1] }
    check("ew_run:transcendental") do |d|
      MX.tanh(MX.log(MX.add(MX.exp(MX.negative(p, stream: d), stream: d), 1.0, stream: d), stream: d), stream: d)
    end
    check("ew_run:minmax", exact: true) do |d|
      MX.maximum(MX.minimum(MX.rsqrt(v, stream: d), 2.0, stream: d), MX.divide(g, 4.0, stream: d), stream: d)
    end
    check("ew_run:transposed", exact: true) { |d| MX.multiply(MX.add(t, 1.0, stream: d), p, stream: d) }
    # Inputs read through their strides: a transposed gradient (as a
    # Linear weight's), a broadcast row, a slice; five transposed dims
    # that do not collapse to four send the run back to one kernel per op.
    row = MX.broadcast_to(f.([1, 17]), [33, 17], stream: :cpu)
    sl = MX.slice(f.([40, 20]), [3, 1], [36, 18], stream: :cpu)
    t5 = MX.transpose(f.([3, 2, 5, 2, 3]), [4, 2, 0, 3, 1], stream: :cpu)
    q5 = f.([3, 5, 3, 2, 2])
    MX.eval(row, sl, t5, q5)
    check("ew_run:strided_adamw", exact: true) do |d|
      m2 = MX.add(MX.multiply(0.9, m, stream: d), MX.multiply(1 - 0.9, t, stream: d), stream: d)
      v2 = MX.add(MX.multiply(0.999, v, stream: d), MX.multiply(1 - 0.999, MX.square(t, stream: d), stream: d),
                  stream: d)
      MX.divide(m2, MX.add(MX.sqrt(v2, stream: d), 1e-8, stream: d), stream: d)
    end
    check("ew_run:strided_mixed", exact: true) do |d|
      MX.subtract(MX.multiply(MX.add(row, sl, stream: d), t, stream: d), MX.square(sl, stream: d), stream: d)
    end
    check("ew_run:strided_5d", exact: true) { |d| MX.multiply(MX.add(t5, q5, stream: d), 2.0, stream: d) }
    # Inputs broadcast inside the op (no broadcast_to in the graph): a
    # conv's bias row then its relu, a column and a row, a transposed
    # input broadcast along a new leading axis.
    feat = f.([4, 6, 5, 16])
    bias = f.([16])
    col = f.([33, 1])
    r3 = f.([17])
    MX.eval(feat, bias, col, r3)
    check("ew_run:bias_relu", exact: true) { |d| MX.maximum(MX.add(feat, bias, stream: d), 0, stream: d) }
    check("ew_run:bias_left_relu", exact: true) { |d| MX.maximum(0, MX.add(bias, feat, stream: d), stream: d) }
    check("ew_run:col_row", exact: true) do |d|
      MX.divide(MX.multiply(MX.add(p, col, stream: d), r3, stream: d), MX.add(col, 2.0, stream: d), stream: d)
    end
    check("ew_run:broadcast_transposed", exact: true) do |d|
      MX.multiply(MX.add(MX.reshape(g, [1, 33, 17], stream: d), t, stream: d), 0.5, stream: d)
    end
  end

  # An RNN layer's forward pass with every op on device d.
  def rnn_on(device, layer, x)
    MX.set_default_device(device == :cpu ? MX.cpu : MX.gpu) unless GPU == :cpu
    layer.call(x).tap { |y| MX.eval(y) }
  ensure
    MX.set_default_device(MX.cpu)
  end

  def test_softmax_logsumexp
    FLOATS.each do |dt|
      x = arr(dt, [6, 7, 300], domain: (-5.0..5.0))
      xt = MX.transpose(x, [2, 0, 1], stream: :cpu)
      MX.eval(x, xt)
      [x, xt].each do |src|
        check("softmax:#{dt}") { |d| MX.softmax(src, axis: -1, stream: d) }
        check("softmax_precise:#{dt}") { |d| MX.softmax(src, axis: -1, precise: true, stream: d) }
        [nil, -1, 0, 1, [0, 2], [1, 2]].each do |ax|
          check("logsumexp:#{dt}") { |d| MX.logsumexp(src, axis: ax, stream: d) }
        end
      end
      s = arr(dt, [8])
      check("softmax_specials:#{dt}") { |d| MX.softmax(s, axis: -1, stream: d) }
      check("logsumexp_specials:#{dt}") { |d| MX.logsumexp(s, stream: d) }
    end
    i = arr(:int32, [5, 9])
    check("softmax:int32") { |d| MX.softmax(i, axis: -1, stream: d) }
  end

  # ---- phase 2b ----------------------------------------------------------

  # Copies into sub-regions: concatenate (plain, transposed and empty
  # inputs), pad in every mode (uneven and zero widths), slice_update with
  # positive and negative steps; every dtype, bit-identical to the CPU.
  def test_concatenate_pad_slice_update
    DTYPES.each do |dt|
      a = arr(dt, [3, 4, 5])
      b = MX.transpose(arr(dt, [5, 2, 3]), [2, 1, 0], stream: :cpu)
      e = arr(dt, [3, 0, 5])
      MX.eval(a, b, e)
      check("concatenate:#{dt}", exact: true) { |d| MX.concatenate([a, b, e, a], axis: 1, stream: d) }
      check("concatenate0:#{dt}", exact: true) { |d| MX.concatenate([a, a], axis: 0, stream: d) }
      # 130 dense inputs (of mixed widths, one empty): the one-kernel path
      # in launches of 64, then stack's expand_dims + concatenate.
      parts = (0...130).map { |i| arr(dt, [3, i % 3, 5]) }
      MX.eval(*parts)
      check("concatenate_many:#{dt}", exact: true) { |d| MX.concatenate(parts, axis: 1, stream: d) }
      check("stack_many:#{dt}", exact: true) { |d| MX.stack(parts.select { |p| p.shape[1] == 2 }, axis: 1, stream: d) }
      check("concatenate2:#{dt}", exact: true) { |d| MX.concatenate([a, MX.exp(a, stream: :cpu)], axis: 2, stream: d) } unless dt == :bool
      %w[constant edge reflect symmetric].each do |mode|
        [[[1, 2], [0, 0], [3, 1]], [[2, 2], [1, 3], [0, 4]]].each do |w|
          check("pad_#{mode}:#{dt}", exact: true) { |d| MX.pad(a, w, mode: mode, constant_values: 1, stream: d) }
          check("pad_#{mode}_t:#{dt}", exact: true) { |d| MX.pad(b, w, mode: mode, stream: d) }
        end
      end
      u = arr(dt, [2, 2, 5])
      MX.eval(u)
      check("slice_update:#{dt}", exact: true) { |d| MX.slice_update(a, u, [1, 0, 0], [3, 4, 5], [1, 2, 1], stream: d) }
      check("slice_update_neg:#{dt}", exact: true) { |d| MX.slice_update(a, u, [2, 3, 0], [0, 0, 5], [-1, -2, 1], stream: d) }
      check("slice_update_t:#{dt}", exact: true) { |d| MX.slice_update(b, MX.transpose(u, [1, 0, 2], stream: :cpu), [0, 0, 0], [2, 2, 5], nil, stream: d) }
    end
  end

  # argmax/argmin along each axis and over the flattened array, plain and
  # transposed inputs, a long reduction (the block-per-output kernel), NaN
  # and ties (the first index wins).
  def test_argmax_argmin
    DTYPES.each do |dt|
      x = arr(dt, [6, 7, 5])
      xt = MX.transpose(x, [2, 0, 1], stream: :cpu)
      long = arr(dt, [3, 1000])
      MX.eval(x, xt, long)
      %i[argmax argmin].each do |op|
        [x, xt].each do |src|
          [nil, 0, 1, 2, -1].each do |ax|
            check("#{op}:#{dt}", exact: true) { |d| MX.public_send(op, src, axis: ax, stream: d) }
          end
          check("#{op}_keepdims:#{dt}", exact: true) { |d| MX.public_send(op, src, axis: 1, keepdims: true, stream: d) }
        end
        check("#{op}_long:#{dt}", exact: true) { |d| MX.public_send(op, long, axis: 1, stream: d) }
        check("#{op}_long0:#{dt}", exact: true) { |d| MX.public_send(op, long, stream: d) }
        next if dt == :complex64

        ties = MX.array([1, 3, 3, 0, 0, 3], dt_obj(dt))
        check("#{op}_ties:#{dt}", exact: true) { |d| MX.public_send(op, ties, stream: d) }
      end
    end
  end

  # fast rms_norm / layer_norm over the last axis: with and without weight
  # and bias, a transposed (not dense) input, a long row (1024 threads).
  def test_norms
    FLOATS.each do |dt|
      o = dt_obj(dt)
      x = arr(dt, [4, 6, 48], domain: (-3.0..3.0))
      xt = MX.transpose(arr(dt, [48, 4, 6], domain: (-3.0..3.0)), [1, 2, 0], stream: :cpu)
      long = arr(dt, [3, 3000], domain: (-3.0..3.0))
      w = arr(dt, [48], domain: (-2.0..2.0))
      b = arr(dt, [48], domain: (-2.0..2.0))
      wl = arr(dt, [3000], domain: (-2.0..2.0))
      MX.eval(x, xt, long, w, b, wl)
      [x, xt].each do |src|
        check("rms_norm:#{dt}") { |d| MX.rms_norm(src, w, 1e-5, stream: d) }
        check("rms_norm_now:#{dt}") { |d| MX.rms_norm(src, nil, 1e-3, stream: d) }
        check("layer_norm:#{dt}") { |d| MX.layer_norm(src, w, b, 1e-5, stream: d) }
        check("layer_norm_nob:#{dt}") { |d| MX.layer_norm(src, w, nil, 1e-5, stream: d) }
        check("layer_norm_none:#{dt}") { |d| MX.layer_norm(src, nil, nil, 1e-5, stream: d) }
      end
      check("rms_norm_long:#{dt}") { |d| MX.rms_norm(long, wl, 1e-5, stream: d) }
      check("layer_norm_long:#{dt}") { |d| MX.layer_norm(long, wl, nil, 1e-5, stream: d) }
      check("layer_norm_cast:#{dt}") { |d| MX.layer_norm(x, MX.ones([48], o), nil, 1e-5, stream: d) }
    end
  end

  # fast rope: traditional or not, partial dims (the rest copied), offsets
  # as a scalar and per batch, custom freqs, the inverse (vjp) rotation.
  def test_rope
    FLOATS.each do |dt|
      x = arr(dt, [2, 3, 5, 16], domain: (-2.0..2.0))
      xt = MX.transpose(arr(dt, [2, 5, 3, 16], domain: (-2.0..2.0)), [0, 2, 1, 3], stream: :cpu)
      MX.eval(x, xt)
      [x, xt].each do |src|
        [true, false].each do |trad|
          check("rope:#{dt}") { |d| MX.rope(src, 16, traditional: trad, base: 10_000.0, scale: 1.0, offset: 3, stream: d) }
          check("rope_partial:#{dt}") { |d| MX.rope(src, 8, traditional: trad, base: 500.0, scale: 0.5, offset: 0, stream: d) }
        end
      end
      offs = MX.array([2, 7], MX.int32)
      freqs = MX.array([1.0, 2.0, 4.0, 8.0], MX.float32)
      MX.eval(offs, freqs)
      check("rope_offsets:#{dt}") { |d| MX.rope(x, 16, traditional: false, base: 10_000.0, scale: 1.0, offset: offs, stream: d) }
      check("rope_freqs:#{dt}") { |d| MX.rope(x, 8, traditional: true, base: nil, scale: 1.0, offset: 1, freqs: freqs, stream: d) }
      check("rope_vjp:#{dt}") do |d|
        f = ->(a) { MX.sum(MX.multiply(MX.rope(a, 16, traditional: false, base: 10_000.0, scale: 1.0, offset: 2, stream: d), x, stream: d), stream: d) }
        MX.grad(f).call(x)
      end
    end
  end

  # threefry on the GPU: the same bits as the CPU for every width and an
  # odd number of bytes (the cut last word), split keys, and the
  # distributions built from them (elementwise ops on the bits).
  # fused attention: grouped-query heads, keys in several tiles, no mask,
  # "causal" (also with more queries than keys: rows that see no key),
  # bool and additive masks, sinks, a transposed query, one query row,
  # and the vjp (built from matmuls and softmax).
  def test_scaled_dot_product_attention
    FLOATS.each do |dt|
      dom = { domain: (-1.0..1.0) }
      q = arr(dt, [2, 4, 9, 16], **dom)
      k = arr(dt, [2, 2, 37, 16], **dom)
      v = arr(dt, [2, 2, 37, 24], **dom)
      qt = MX.transpose(arr(dt, [2, 9, 4, 16], **dom), [0, 2, 1, 3], stream: :cpu)
      q1 = arr(dt, [2, 4, 1, 16], **dom)
      qlong = arr(dt, [1, 2, 50, 16], **dom)
      kshort = arr(dt, [1, 2, 20, 16], **dom)
      vshort = arr(dt, [1, 2, 20, 16], **dom)
      bmask = MX.array(values(:bool, 9 * 37), MX.bool_).reshape([9, 37])
      amask = arr(dt, [2, 1, 9, 37], domain: (-4.0..0.0))
      sinks = arr(dt, [4], **dom)
      big_q = arr(dt, [1, 2, 70, 128], **dom)
      big_k = arr(dt, [1, 2, 90, 128], **dom)
      big_v = arr(dt, [1, 2, 90, 64], **dom)
      MX.eval(q, k, v, qt, q1, qlong, kshort, vshort, bmask, amask, sinks, big_q, big_k, big_v)
      sc = 0.25
      check("sdpa:#{dt}") { |d| MX.scaled_dot_product_attention(q, k, v, sc, nil, stream: d) }
      check("sdpa_causal:#{dt}") { |d| MX.scaled_dot_product_attention(q, k, v, sc, "causal", stream: d) }
      check("sdpa_causal_more_queries:#{dt}") do |d|
        MX.scaled_dot_product_attention(qlong, kshort, vshort, sc, "causal", stream: d)
      end
      check("sdpa_bool_mask:#{dt}") { |d| MX.scaled_dot_product_attention(q, k, v, sc, bmask, stream: d) }
      check("sdpa_additive_mask:#{dt}") { |d| MX.scaled_dot_product_attention(q, k, v, sc, amask, stream: d) }
      check("sdpa_sinks:#{dt}") { |d| MX.scaled_dot_product_attention(q, k, v, sc, "causal", sinks, stream: d) }
      check("sdpa_transposed:#{dt}") { |d| MX.scaled_dot_product_attention(qt, k, v, sc, nil, stream: d) }
      check("sdpa_one_row:#{dt}") { |d| MX.scaled_dot_product_attention(q1, k, v, sc, nil, stream: d) }
      check("sdpa_head_128:#{dt}") { |d| MX.scaled_dot_product_attention(big_q, big_k, big_v, sc, "causal", stream: d) }
      next unless %i[float32 float64].include?(dt)

      check("sdpa_vjp:#{dt}") do |d|
        f = lambda do |a, b, c|
          MX.sum(MX.multiply(MX.scaled_dot_product_attention(a, b, c, sc, amask, stream: d), 0.5, stream: d), stream: d)
        end
        g = MX.grad(f, argnums: [0, 1, 2]).call(q, k, v)
        MX.concatenate(g.map { |x| MX.flatten(x, stream: d) }, 0, stream: d)
      end
    end
  end

  def test_random
    key = MX.key(42)
    MX.eval(key)
    { 1 => [[1], [7], [3, 5], [1001]], 2 => [[3], [1, 9], [4097]], 4 => [[1], [2], [5], [3, 333]] }.each do |width, shapes|
      shapes.each do |shape|
        check("random_bits:w#{width}", exact: true) { |d| MLX::Native.random_bits(shape, width, key, d) }
      end
    end
    check("random_split:uint32", exact: true) { |d| MX.stack(MX.random_split(key, stream: d), stream: :cpu) }
    check("random_split3:uint32", exact: true) { |d| MX.random_split(key, 3, stream: d) }
    check("random_uniform:float32", exact: true) { |d| MX.uniform([100], -2.0, 3.0, MX.float32, key: key, stream: d) }
    # normal goes through erfinv, whose logf is CUDA's on the GPU (last bit).
    check("random_normal:float32") { |d| MX.normal([101], 0.0, 1.0, MX.float32, key: key, stream: d) }
    check("random_randint:int32", exact: true) { |d| MX.randint(-5, 17, [64], MX.int32, key: key, stream: d) }
    check("random_bernoulli:bool", exact: true) { |d| MX.bernoulli(0.3, [50], key: key, stream: d) }
  end

  # gather (take, fancy indexing, multi-axis gathers with slices),
  # take_along_axis, scatter / scatter_add and put_along_axis, with
  # negative and out-of-range indices (clamped by gathers, dropped by
  # scatters), index dtypes other than int32, broadcast index views, and
  # the Embedding-style gradient (scatter_add with repeated indices).
  def test_gather_scatter
    DTYPES.each do |dt|
      a = arr(dt, [6, 5, 4])
      at = MX.transpose(arr(dt, [4, 6, 5]), [1, 2, 0], stream: :cpu)
      MX.eval(a, at)
      i32 = MX.array([0, 5, -1, 2, 9, -8], MX.int32)
      i8 = MX.array([[1, -2], [3, 0]], MX.int8)
      MX.eval(i32, i8)
      [a, at].each do |src|
        check("take:#{dt}", exact: true) { |d| MX.take(src, i32, axis: 0, stream: d) }
        check("take1:#{dt}", exact: true) { |d| MX.take(src, i8, axis: 1, stream: d) }
        check("take_flat:#{dt}", exact: true) { |d| MX.take(src, i32, stream: d) }
        check("gather2:#{dt}", exact: true) { |d| MX.gather(src, [i8, MX.transpose(i8, stream: :cpu)], [0, 2], [1, 3, 1], stream: d) }
        ia = MX.broadcast_to(MX.array([[[1]], [[3]], [[-1]]], MX.int32), [3, 5, 4], stream: :cpu)
        check("take_along_axis:#{dt}", exact: true) { |d| MX.take_along_axis(src, ia, axis: 0, stream: d) }
        ib = MX.array([[[0, 3, -1, 2]] * 5] * 6, MX.uint8)
        check("take_along_axis2:#{dt}", exact: true) { |d| MX.take_along_axis(src, MX.minimum(ib, 3, stream: :cpu), axis: 2, stream: d) }
      end
      upd = arr(dt, [3, 1, 5, 4])
      MX.eval(upd)
      rows = MX.array([4, 0, -1], MX.int32)
      check("scatter:#{dt}", exact: true) { |d| MX.scatter(a, [rows], upd, [0], stream: d) }
      check("scatter_oob:#{dt}", exact: true) { |d| MX.scatter(a, [MX.array([7, 1, -9], MX.int64)], upd, [0], stream: d) }
      vals = arr(dt, [6, 2, 4])
      MX.eval(vals)
      # No two (index, column) pairs meet: with duplicates the GPU keeps any one write.
      check("put_along_axis:#{dt}", exact: true) { |d| MX.put_along_axis(a, MX.array([[[0, 1, 2, 3], [4, 3, 1, -1]]] * 6, MX.int32), vals, axis: 1, stream: d) }
      # The reductions, every dtype: rows hit several times (index -5 is
      # row 1 again) combine atomically in any order, so float sums and
      # products of duplicates agree within rounding (float32, float64,
      # complex64: half types take distinct rows, exact); max and min,
      # integers and bool agree exactly.
      dup = MX.array([1, 1, 3, 1, -5], MX.int32)
      distinct = MX.array([1, 4, 3, 0, -4], MX.int32)
      u5 = arr(dt, [5, 1, 5, 4], domain: (-1.0..1.0))
      MX.eval(u5)
      float_order = %i[float32 float64 complex64].include?(dt)
      half = %i[float16 bfloat16].include?(dt)
      %i[scatter_add scatter_prod scatter_max scatter_min].each do |op|
        ordered = %i[scatter_add scatter_prod].include?(op)
        rows = ordered && half ? distinct : dup
        r = check("#{op}:#{dt}", exact: !(ordered && float_order)) { |d| MX.public_send(op, a, [rows], u5, [0], stream: d) }
        refute_equal :unsupported, r, "#{op}:#{dt}"
      end
    end
    # The gradient of an embedding lookup and of take_along_axis on the GPU.
    w = arr(:float32, [10, 8], domain: (-1.0..1.0))
    ids = MX.array([[1, 3, 3], [0, 9, 1]], MX.int32)
    MX.eval(w, ids)
    r = check("embedding_grad:float32") do |d|
      MX.grad(->(m) { MX.sum(MX.square(MX.take(m, ids, axis: 0, stream: d), stream: d), stream: d) }).call(w)
    end
    refute_equal :cpu_error, r
    cols = MX.array([[1], [0], [7], [2], [2], [7], [0], [1], [3], [4]], MX.int32)
    r = check("take_along_axis_grad:float32") do |d|
      MX.grad(->(m) { MX.sum(MX.square(MX.take_along_axis(m, cols, axis: 1, stream: d), stream: d), stream: d) }).call(w)
    end
    refute_equal :cpu_error, r
  end
end
