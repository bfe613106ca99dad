# frozen_string_literal: true

# The GPU against the CPU for the sort family (sort, argsort, partition,
# argpartition, topk), the scans (cumsum, cumprod, cummax, cummin,
# logcumsumexp, forward and reverse, inclusive and exclusive) and
# tril/triu, over every dtype, several axes, transposed inputs, rows of
# 1, 2, 17, 33, 1000 and 5000 elements (each kernel path), NaN, +-0.0 and
# duplicates, empty arrays; and the vjp of sort and cumsum. Same harness
# as ops_gpu.rb; needs a build with MLX_CUDA=1 and a GPU (test/gpu/run.sh),
# skips otherwise.
#
# Sorts and partitions must agree element for element (floats bit for
# bit, -0.0 told from 0.0; partition's order is the CPU's introselect
# order). Scans along short lines run serially in the CPU's order and
# must be bit-identical, except logcumsumexp (CUDA's expf/log1pf); scans
# of few long lines run in parallel chunks, exact for integers, bool and
# float max/min, within a tolerance of the largest output for float sums,
# products and logcumsumexp.
require "minitest/autorun"
require "mlx"
require_relative "gpu_compare"

unless GPUCompare.runnable?
  class GPUSortScanTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUSortScanTest < Minitest::Test
  include GPUCompare
  MX = MLX::Core

  INEXACT_DT = (FLOATS + %i[complex64]).freeze
  # Long float scans (parallel chunks against the CPU's serial order), as a
  # fraction of the largest output: float16/bfloat16 sums round at every
  # step on both sides, so only a loose bound holds.
  LONG_TOL = { float16: 0.1, bfloat16: 0.5, float32: 1e-3, float64: 1e-10, complex64: 1e-3 }.freeze
  SCANS = %i[cumsum cumprod cummax cummin logcumsumexp].freeze

  COUNTS = Hash.new(0)
  INEXACT = Hash.new(0)
  Minitest.after_run do
    next if COUNTS.empty?

    puts "\nGPU vs CPU sort/scan cases: #{COUNTS[:ok]} matched, #{COUNTS[:failed]} differed"
    unless INEXACT.empty?
      puts "Pairs within tolerance but not bit-identical (elements differing):"
      INEXACT.sort.each { |k, v| puts "  #{k}: #{v}" }
    end
  end

  def setup
    @rng = Random.new(4321)
  end

  # ---- inputs ---------------------------------------------------------------

  INT_RANGE = {
    uint8: [0, 255], uint16: [0, 65_535], uint32: [0, 2**32 - 1], uint64: [0, 2**64 - 1],
    int8: [-128, 127], int16: [-32_768, 32_767], int32: [-2**31, 2**31 - 1], int64: [-2**63, 2**63 - 1]
  }.freeze
  FLOAT_POOL = [0.0, -0.0, 1.5, -2.25, Float::NAN, Float::INFINITY, -Float::INFINITY, 1.5, 0.0].freeze
  COMPLEX_POOL = [Complex(0.0, 0.0), Complex(0.0, -0.0), Complex(1.0, 2.0), Complex(1.0, -2.0), Complex(-1.0, 0.5),
                  Complex(Float::NAN, 0.0), Complex(0.0, Float::NAN), Complex(1.0, 2.0)].freeze

  # Random values of a dtype; dups: drawn from a few values (the extremes,
  # +-0.0, NaN, infinities), so most keys repeat; domain: floats in it,
  # no specials (imag: the imaginary parts' domain, else domain).
  def values(dtype, n, dups: false, domain: nil, imag: nil)
    Array.new(n) do |i|
      case dtype
      when :bool then @rng.rand(2) == 1
      when :complex64
        if dups then COMPLEX_POOL[@rng.rand(COMPLEX_POOL.size)]
        elsif domain then Complex(rnd(domain), rnd(imag || domain))
        else Complex(@rng.rand * 6 - 3, @rng.rand * 6 - 3)
        end
      when *FLOATS
        if dups then FLOAT_POOL[@rng.rand(FLOAT_POOL.size)]
        elsif domain then rnd(domain)
        else
          specials = [0.0, -0.0, Float::INFINITY, -Float::INFINITY, Float::NAN, 1.0, -1.0, 0.5]
          i < specials.size && n > 3 * specials.size ? specials[(i * 7) % specials.size] : @rng.rand * 8 - 4
        end
      else
        lo, hi = INT_RANGE.fetch(dtype)
        if dups then [lo, hi, 0.clamp(lo, hi), 1, hi - 1][@rng.rand(5)]
        elsif domain then domain.begin.to_i + @rng.rand(domain.end.to_i - domain.begin.to_i + 1)
        else lo + @rng.rand(hi - lo + 1)
        end
      end
    end
  end

  def rnd(domain) = domain.begin + @rng.rand * (domain.end - domain.begin)

  def arr(dtype, shape, **kw)
    n = shape.inject(1, :*)
    a = MX.array(values(dtype, n, **kw), dt_obj(dtype)).reshape(shape)
    MX.eval(a)
    a
  end

  # The same values transposed: a strided input with the given shape.
  def arr_t(dtype, shape, **kw)
    a = MX.transpose(arr(dtype, shape.reverse, **kw), stream: :cpu)
    MX.eval(a)
    a
  end

  # ---- comparison -----------------------------------------------------------

  # Runs blk on the CPU and the GPU; exact: element for element (floats
  # bit for bit, NaN matching NaN, -0.0 only -0.0); tol: within tol of the
  # largest CPU output (scaled), else within TOL of each element.
  def check(label, exact: true, scaled: nil)
    cpu = yield(:cpu)
    gpu = begin
      yield(GPU)
    rescue MLX::Error => e
      return fail_pair(label, "gpu error: #{e.message}")
    end
    return fail_pair(label, "shape cpu #{cpu.shape} gpu #{gpu.shape}") unless cpu.shape == gpu.shape
    return fail_pair(label, "dtype cpu #{dname(cpu)} gpu #{dname(gpu)}") unless dname(cpu) == dname(gpu)

    cv = flat(cpu)
    gv = flat(gpu)
    tol = TOL[dname(cpu).to_sym]
    scale = scaled && [cv.map { |c| mag(c) }.reject { |m| m.nan? || m.infinite? }.max || 0.0, 1.0].max
    diff = 0
    cv.zip(gv).each_with_index do |(c, g), i|
      next if same?(c, g)

      diff += 1
      next if !exact && scaled && close_scaled?(c, g, scaled * scale)
      next if !exact && !scaled && tol && close?(c, g, tol)

      return fail_pair(label, "element #{i} of #{cv.size}: cpu #{c.inspect} gpu #{g.inspect}")
    end
    INEXACT[label] += diff if diff.positive?
    COUNTS[:ok] += 1
    :ok
  end

  # ---- sort family ------------------------------------------------------------

  # Row lengths: 1, 2, 17 (the partition's thread-per-row path), 33, 1000
  # (shared memory), 5000 (sort: radix over the array; partition: rows in
  # global scratch); one row and several (the row number in the radix key,
  # or 64-bit keys sorted by key, then by row).
  ROWS = [[6, 1], [5, 2], [4, 17], [3, 33], [2, 1000], [1, 5000], [3, 5000]].freeze

  def sort_cases(dt)
    cases = []
    ROWS.each do |shape|
      cases << [arr(dt, shape), -1, "#{shape.join('x')}"]
      cases << [arr(dt, shape, dups: true), -1, "#{shape.join('x')}dups"]
    end
    x3 = arr(dt, [5, 33, 3], dups: true)
    cases << [x3, 0, "5x33x3ax0"] << [x3, 1, "5x33x3ax1"] << [x3, 2, "5x33x3ax2"]
    xt = arr_t(dt, [7, 40])
    cases << [xt, 1, "7x40T"] << [xt, 0, "7x40Tax0"]
    lt = arr_t(dt, [4, 4500], dups: true)
    cases << [lt, 1, "4x4500T"]
    cases
  end

  def test_sort_argsort
    DTYPES.each do |dt|
      sort_cases(dt).each do |x, ax, tag|
        check("sort:#{dt}:#{tag}") { |d| MX.sort(x, ax, stream: d) }
        check("argsort:#{dt}:#{tag}") { |d| MX.argsort(x, ax, stream: d) }
      end
      f = arr(dt, [3, 4, 5], dups: true)
      check("sort_all:#{dt}") { |d| MX.sort(f, nil, stream: d) }
      check("argsort_all:#{dt}") { |d| MX.argsort(f, nil, stream: d) }
    end
  end

  def test_partition_topk
    DTYPES.each do |dt|
      sort_cases(dt).each do |x, ax, tag|
        n = x.shape[ax]
        [0, n / 2, n - 1, -1, n / 3].uniq.each do |kth|
          check("partition:#{dt}:#{tag}:#{kth}") { |d| MX.partition(x, kth, ax, stream: d) }
          check("argpartition:#{dt}:#{tag}:#{kth}") { |d| MX.argpartition(x, kth, ax, stream: d) }
        end
        k = [n / 4, 1].max
        check("topk:#{dt}:#{tag}:#{k}") { |d| MX.topk(x, k, ax, stream: d) }
      end
    end
  end

  def test_median_and_empty
    FLOATS.each do |dt|
      x = arr(dt, [4, 6, 9])
      check("median:#{dt}") { |d| MX.median(x, [1, 2], stream: d) }
    end
    DTYPES.each do |dt|
      e = MX.zeros([0, 4], dt_obj(dt))
      e2 = MX.zeros([3, 0], dt_obj(dt))
      MX.eval(e, e2)
      check("sort_empty:#{dt}") { |d| MX.sort(e, 0, stream: d) }
      check("sort_empty1:#{dt}") { |d| MX.sort(e2, 1, stream: d) }
      check("argsort_empty:#{dt}") { |d| MX.argsort(e, 1, stream: d) }
      check("partition_empty:#{dt}") { |d| MX.partition(e, 2, 1, stream: d) }
      check("cumsum_empty:#{dt}") { |d| MX.cumsum(e, axis: 0, stream: d) }
      check("tril_empty:#{dt}") { |d| MX.tril(e, stream: d) }
    end
  end

  # searchsorted has no GPU kernel: the usual error, not a CPU fallback.
  def test_searchsorted_stays_on_cpu
    skip "the CPU stands in for the GPU" if GPU == :cpu
    a = MX.array([1.0, 2.0, 3.0])
    err = assert_raises(MLX::Error) { MX.searchsorted(a, a, stream: GPU).to_a }
    assert_includes err.message, "not implemented on gpu"
  end

  # ---- scans ---------------------------------------------------------------------

  # Short lines (the serial kernels): every op, dtype, axis, direction.
  def test_scans_short_lines
    DTYPES.each do |dt|
      x = arr(dt, [6, 7, 5])
      xd = arr(dt, [4, 3, 9], dups: true)
      xt = arr_t(dt, [5, 8, 3])
      rows = arr(dt, [300, 40])
      SCANS.each do |op|
        exact = op != :logcumsumexp
        # complex logcumsumexp: CUDA's and glibc's expf/logf/atan2f drift
        # apart along 300-element lines, so compare to the largest output.
        scaled = op == :logcumsumexp && dt == :complex64 ? LONG_TOL[:complex64] : nil
        [true, false].each do |rev|
          [true, false].each do |inc|
            tag = "#{op}:#{dt}:#{rev ? 'rev' : 'fwd'}:#{inc ? 'inc' : 'exc'}"
            [[x, 0], [x, 1], [x, 2], [x, -1], [xd, 2], [xd, 0], [xt, 1], [xt, 2], [rows, 1], [rows, 0]].each do |a, ax|
              check("#{tag}:#{a.shape.join('x')}:#{ax}", exact: exact, scaled: scaled) do |d|
                MX.public_send(op, a, axis: ax, reverse: rev, inclusive: inc, stream: d)
              end
            end
          end
        end
        check("#{op}:#{dt}:flat", exact: exact) { |d| MX.public_send(op, x, stream: d) }
      end
    end
  end

  # Few long lines (the parallel kernels): integers, bool and float
  # max/min exact; float sums, products and logcumsumexp within LONG_TOL.
  def test_scans_long_lines
    DTYPES.each do |dt|
      domain = { cumsum: (-1.0..1.0), cumprod: (0.999..1.001), cummax: (-4.0..4.0), cummin: (-4.0..4.0),
                 logcumsumexp: (-4.0..4.0) }
      SCANS.each do |op|
        dom = INEXACT_DT.include?(dt) ? domain[op] : nil
        dom = (0..3) if op == :cumprod && !INEXACT_DT.include?(dt) && dt != :bool
        im = op == :cumprod ? (-0.001..0.001) : nil
        long = arr(dt, [3, 5000], domain: dom, imag: im)
        longt = arr_t(dt, [6000, 2], domain: dom, imag: im)
        # max/min: associative bit for bit (complex64 max/min run serially)
        exact = %i[cummax cummin].include?(op) || (!INEXACT_DT.include?(dt) && op != :logcumsumexp)
        scaled = exact ? nil : LONG_TOL.fetch(INEXACT_DT.include?(dt) ? dt : :float32)
        [true, false].each do |rev|
          [true, false].each do |inc|
            tag = "#{op}_long:#{dt}:#{rev ? 'rev' : 'fwd'}:#{inc ? 'inc' : 'exc'}"
            check("#{tag}:3x5000", exact: exact, scaled: scaled) do |d|
              MX.public_send(op, long, axis: 1, reverse: rev, inclusive: inc, stream: d)
            end
            check("#{tag}:6000x2T", exact: exact, scaled: scaled) do |d|
              MX.public_send(op, longt, axis: 0, reverse: rev, inclusive: inc, stream: d)
            end
          end
        end
      end
    end
    # one line of many chunks (the chunk totals pass); then NaN, infinities
    # and +-0.0 through the parallel max/min
    %i[int32 int64 uint8 bool float32 float16].each do |dt|
      big = arr(dt, [1, 70_000], domain: FLOATS.include?(dt) ? (-1.0..1.0) : nil)
      %i[cumsum cummax cummin].each do |op|
        exact = !FLOATS.include?(dt) || op != :cumsum
        scaled = exact ? nil : LONG_TOL.fetch(dt)
        [true, false].each do |inc|
          check("#{op}_big:#{dt}:#{inc}", exact: exact, scaled: scaled) do |d|
            MX.public_send(op, big, axis: 1, inclusive: inc, stream: d)
          end
        end
      end
    end
    nanx = arr(:float32, [2, 9000])
    %i[cummax cummin].each do |op|
      check("#{op}_long_specials:float32") { |d| MX.public_send(op, nanx, axis: 1, stream: d) }
    end
  end

  # ---- tril / triu -----------------------------------------------------------------

  def test_tril_triu
    DTYPES.each do |dt|
      a = arr(dt, [5, 7])
      b = arr(dt, [2, 3, 6, 4], dups: true)
      t = arr_t(dt, [6, 5])
      [-10, -2, -1, 0, 1, 3, 10].each do |k|
        [a, b, t].each do |src|
          check("tril:#{dt}:#{src.shape.join('x')}:#{k}") { |d| MX.tril(src, k, stream: d) }
          check("triu:#{dt}:#{src.shape.join('x')}:#{k}") { |d| MX.triu(src, k, stream: d) }
        end
      end
    end
  end

  # ---- gradients ---------------------------------------------------------------------

  def test_vjp_sort_and_cumsum
    x = arr(:float32, [4, 37], domain: (-2.0..2.0))
    w = arr(:float32, [4, 37], domain: (-1.0..1.0))
    xd = MX.array(values(:float32, 4 * 37, dups: true).map { |v| v.nan? || v.infinite? ? 0.5 : v }).reshape([4, 37])
    MX.eval(xd)
    [[x, "rand"], [xd, "dups"]].each do |src, tag|
      check("grad_sort:#{tag}") do |d|
        MX.grad(->(v) { MX.sum(MX.multiply(MX.sort(v, 1, stream: d), w, stream: d), stream: d) }).call(src)
      end
      check("grad_sort_ax0:#{tag}") do |d|
        MX.grad(->(v) { MX.sum(MX.multiply(MX.sort(v, 0, stream: d), w, stream: d), stream: d) }).call(src)
      end
      check("grad_topk:#{tag}") do |d|
        MX.grad(->(v) { MX.sum(MX.square(MX.topk(v, 5, 1, stream: d), stream: d), stream: d) }).call(src)
      end
    end
    [true, false].each do |rev|
      [true, false].each do |inc|
        check("grad_cumsum:#{rev}:#{inc}") do |d|
          f = lambda do |v|
            MX.sum(MX.multiply(MX.cumsum(v, axis: 1, reverse: rev, inclusive: inc, stream: d), w, stream: d), stream: d)
          end
          MX.grad(f).call(x)
        end
      end
    end
    check("grad_cumprod", exact: false) do |d|
      MX.grad(->(v) { MX.sum(MX.cumprod(v, axis: 1, stream: d), stream: d) }).call(MX.multiply(x, 0.5, stream: :cpu))
    end
    check("grad_cummax", exact: false) do |d|
      MX.grad(->(v) { MX.sum(MX.multiply(MX.cummax(v, axis: 1, stream: d), w, stream: d), stream: d) }).call(x)
    end
  end
end
