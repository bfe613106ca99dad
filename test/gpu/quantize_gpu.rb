# frozen_string_literal: true

# The GPU against the CPU for affine quantization (cuda/quantize.c):
# quantize must give the CPU's packed words, scales and biases bit for
# bit (same float operations), for every bit width (1-6, 8), group size
# (32, 64, 128) and float dtype; dequantize likewise, including the
# float16/bfloat16 rounding of each step and every result dtype; and
# quantized_matmul (a dequantized float32 panel times x through cuBLAS)
# agrees within a product's rounding, transposed or not, batched,
# broadcast, a vector x, integer x, and its gradient with respect to x.
# The fp modes are not on the GPU and say so. Needs a build with
# MLX_CUDA=1 and a GPU (test/gpu/run.sh); skips otherwise.
require "minitest/autorun"
require "mlx"
require_relative "gpu_compare"

unless GPUCompare.runnable?
  class GPUQuantizeTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUQuantizeTest < Minitest::Test
  include GPUCompare
  MX = MLX::Core
  COUNTS = Hash.new(0)
  Minitest.after_run { puts "\nGPU vs CPU quantization cases: #{COUNTS[:ok]} matched, #{COUNTS[:failed]} differed" }
  BITS = [1, 2, 3, 4, 5, 6, 8].freeze
  HALF = %i[float16 bfloat16].freeze

  def setup
    MX.seed(7)
  end

  def rand_w(shape, dtype = :float32)
    MX.eval(w = MX.astype(MX.normal(shape, stream: :cpu), dt_obj(dtype), stream: :cpu))
    w
  end

  # cpu and gpu arrays agree element for element (tol nil) or within tol
  # of the largest cpu magnitude.
  def compare(label, cpu, gpu, tol = nil)
    return fail_pair(label, "shape cpu #{cpu.shape} gpu #{gpu.shape}") unless cpu.shape == gpu.shape
    return fail_pair(label, "dtype cpu #{dname(cpu)} gpu #{dname(gpu)}") unless dname(cpu) == dname(gpu)

    cv = flat(cpu)
    gv = flat(gpu)
    bound = tol && tol * [cv.map { |v| v.to_f.abs }.max || 0.0, 1.0].max
    cv.zip(gv).each_with_index do |(c, g), i|
      next if tol ? close_scaled?(c, g, bound) : same?(c, g)

      return fail_pair(label, "element #{i}: cpu #{c.inspect} gpu #{g.inspect}")
    end
    COUNTS[:ok] += 1
  end

  def test_quantize_bit_exact
    %i[float32 float16 bfloat16].each do |dt|
      [32, 64, 128].each do |gs|
        BITS.each do |bits|
          w = rand_w([6, 2 * gs], dt)
          cpu = MX.quantize(w, gs, bits, stream: :cpu)
          gpu = MX.quantize(w, gs, bits, stream: GPU)
          %w[wq scales biases].each_with_index { |n, i| compare("quantize:#{n}:#{dt}:#{gs}:#{bits}", cpu[i], gpu[i]) }
        end
      end
    end
    # a transposed (strided) input, batch dims, a constant group
    w = MX.transpose(rand_w([128, 3, 4]), [1, 2, 0], stream: :cpu)
    w = MX.concatenate([w, MX.zeros([3, 1, 128])], axis: 1, stream: :cpu)
    MX.eval(w)
    cpu = MX.quantize(w, 64, 4, stream: :cpu)
    gpu = MX.quantize(w, 64, 4, stream: GPU)
    %w[wq scales biases].each_with_index { |n, i| compare("quantize:#{n}:strided", cpu[i], gpu[i]) }
  end

  def test_dequantize_bit_exact
    %i[float32 float16 bfloat16].each do |dt|
      [32, 128].each do |gs|
        BITS.each do |bits|
          wq, s, b = MX.quantize(rand_w([5, 2 * gs], dt), gs, bits, stream: :cpu)
          MX.eval(wq, s, b)
          [nil, MX.float32, MX.float64].each do |odt|
            compare("dequantize:#{dt}:#{gs}:#{bits}:#{odt.inspect}",
                    MX.dequantize(wq, s, b, gs, bits, dtype: odt, stream: :cpu),
                    MX.dequantize(wq, s, b, gs, bits, dtype: odt, stream: GPU))
          end
        end
      end
    end
    # float64 scales (read as float32 on both sides), transposed words
    wq, s, b = MX.quantize(rand_w([4, 64]), 32, 4, stream: :cpu)
    s64 = MX.astype(s, MX.float64, stream: :cpu)
    b64 = MX.astype(b, MX.float64, stream: :cpu)
    MX.eval(s64, b64)
    compare("dequantize:scales64", MX.dequantize(wq, s64, b64, 32, 4, stream: :cpu),
            MX.dequantize(wq, s64, b64, 32, 4, stream: GPU))
  end

  def qmm_check(label, x, wq, s, b, gs, bits, transpose, tol = 1e-4)
    cpu = MX.quantized_matmul(x, wq, s, b, transpose, gs, bits, stream: :cpu)
    gpu = MX.quantized_matmul(x, wq, s, b, transpose, gs, bits, stream: GPU)
    compare(label, cpu, gpu, tol)
  end

  def test_quantized_matmul
    [[4, 64], [8, 128], [3, 32]].each do |bits, gs|
      [true, false].each do |tr|
        w = rand_w([48, 2 * gs]) # N x K (transpose) or K x N
        wq, s, b = MX.quantize(w, gs, bits, stream: :cpu)
        MX.eval(wq, s, b)
        k = tr ? 2 * gs : 48
        [[1, k], [5, k], [2, 3, 7, k], [k]].each do |xs|
          qmm_check("qmm:#{bits}:#{gs}:#{tr}:#{xs}", rand_w(xs), wq, s, b, gs, bits, tr)
        end
      end
    end
    # batched weights, broadcast either way, half x and scales, integer x
    wq, s, b = MX.quantize(rand_w([3, 16, 64]), 64, 4, stream: :cpu)
    MX.eval(wq, s, b)
    qmm_check("qmm:batched", rand_w([3, 5, 64]), wq, s, b, 64, 4, true)
    qmm_check("qmm:wbroadcast", rand_w([2, 1, 5, 64]), wq, s, b, 64, 4, true)
    w1 = MX.slice(wq, [0, 0, 0], [1, 16, 8], stream: :cpu)
    s1 = MX.slice(s, [0, 0, 0], [1, 16, 1], stream: :cpu)
    b1 = MX.slice(b, [0, 0, 0], [1, 16, 1], stream: :cpu)
    qmm_check("qmm:xbroadcast", rand_w([4, 5, 64]), w1, s1, b1, 64, 4, true)
    xt = MX.transpose(rand_w([64, 2, 1, 5]), [1, 2, 3, 0], stream: :cpu)
    qmm_check("qmm:partial", xt, wq, s, b, 64, 4, true)
    HALF.each do |dt|
      wq, s, b = MX.quantize(rand_w([32, 64], dt), 32, 4, stream: :cpu)
      qmm_check("qmm:#{dt}", rand_w([6, 64], dt), wq, s, b, 32, 4, true, 2e-2)
    end
    wq, s, b = MX.quantize(rand_w([8, 32]), 32, 2, stream: :cpu)
    xi = MX.array([[1, -2, 3] * 10 + [0, 4]], MX.int32)
    qmm_check("qmm:int", xi, wq, s, b, 32, 2, true)
  end

  # gather_qmm (mixture-of-experts): x batches and packed weight batches
  # picked per pair, transposed or not, half x; indices past a batch are
  # an IndexError on the GPU too.
  def test_gather_qmm
    [true, false].each do |tr|
      wq, s, b = MX.quantize(rand_w([4, 32, 64]), 64, 4, stream: :cpu)
      MX.eval(wq, s, b)
      k = tr ? 64 : 32
      x = rand_w([3, 2, k])
      li = MX.array([2, 0, 1, 1], MX.uint32)
      ri = MX.array([3, 3, 0, 2], MX.uint32)
      MX.eval(x, li, ri)
      f = ->(d) { MX.gather_qmm(x, wq, s, b, li, ri, tr, 64, 4, stream: d) }
      compare("gather_qmm:#{tr}", f.call(:cpu), f.call(GPU), 1e-4)
    end
    wq, s, b = MX.quantize(rand_w([2, 16, 32], :bfloat16), 32, 8, stream: :cpu)
    xh = rand_w([2, 5, 32], :bfloat16)
    f = ->(d) { MX.gather_qmm(xh, wq, s, b, MX.array([1, 0]), MX.array([0, 1]), true, 32, 8, stream: d) }
    compare("gather_qmm:bfloat16", f.call(:cpu), f.call(GPU), 2e-2)
    return if GPU == :cpu

    err = assert_raises(IndexError) do
      MX.eval(MX.gather_qmm(xh, wq, s, b, MX.array([0]), MX.array([7]), true, 32, 8, stream: GPU))
    end
    assert_includes err.message, "out of range"
  end

  def test_quantized_matmul_grad
    wq, s, b = MX.quantize(rand_w([16, 64]), 64, 4, stream: :cpu)
    x = rand_w([3, 64])
    MX.eval(wq, s, b, x)
    grads = %i[cpu gpu].map do |d|
      dev = d == :cpu ? :cpu : GPU
      f = ->(v) { MX.sum(MX.square(MX.quantized_matmul(v, wq, s, b, true, 64, 4, stream: dev), stream: dev), stream: dev) }
      MX.grad(f).call(x)
    end
    compare("qmm:grad", grads[0], grads[1], 1e-4)
  end

  # e4m3 conversions bit for bit: subnormals, ties, saturation, NaN, -0.0,
  # every byte back to each float dtype.
  def test_fp8_conversions
    special = [0.0, -0.0, 1.0, -1.5, 448.0, 500.0, -1e9, Float::NAN, Float::INFINITY, 2.0**-9, 3 * 2.0**-10,
               2.0**-7 + 2.0**-10, 0.0625 * 1.0625, 1e-12, 240.0, 232.0]
    %i[float32 float16 bfloat16 float64].each do |dt|
      x = MX.concatenate([MX.array(special, dt_obj(dt)), MX.multiply(rand_w([200], dt), 40, stream: :cpu)],
                         stream: :cpu)
      MX.eval(x)
      compare("to_fp8:#{dt}", MX.to_fp8(x, stream: :cpu), MX.to_fp8(x, stream: GPU))
      xt = MX.transpose(MX.reshape(MX.slice(x, [0], [216], stream: :cpu), [12, 18], stream: :cpu), stream: :cpu)
      compare("to_fp8:#{dt}:transposed", MX.to_fp8(xt, stream: :cpu), MX.to_fp8(xt, stream: GPU))
    end
    bytes = MX.array((0..255).to_a, MX.uint8)
    %i[float32 float16 bfloat16 float64].each do |dt|
      compare("from_fp8:#{dt}", MX.from_fp8(bytes, dt_obj(dt), stream: :cpu), MX.from_fp8(bytes, dt_obj(dt), stream: GPU))
    end
  end

  def test_fp_modes_say_not_on_gpu
    skip "the CPU stands in for the GPU" if GPU == :cpu
    w = rand_w([4, 32])
    err = assert_raises(MLX::Error) { MX.eval(MX.quantize(w, mode: "mxfp4", stream: GPU)) }
    assert_includes err.message, "not implemented on gpu"
  end
end
