# frozen_string_literal: true

# The conv primitive on the GPU (cuda/conv.c: im2col + cuBLAS) against the
# CPU kernel: conv1d/conv2d/conv3d with strides, padding, kernel dilation,
# groups (depthwise included) and 1x1 kernels (the path without im2col);
# conv_transpose1d/2d/3d (input dilation and a flipped kernel);
# conv_general with asymmetric and negative padding, input dilation and
# flip; float32, float16, bfloat16 and float64; transposed (non-contiguous)
# inputs and weights, batch 1 and > 1, an empty batch, no input channels,
# a convolution big enough to run in several chunks, and the gradients
# (the vjp of conv is made of convs) of a conv loss on the GPU against the
# CPU. Inputs are made on the CPU; the GPU run uploads them. Needs a build
# with MLX_CUDA=1 and a GPU (test/gpu/run.sh); skips otherwise.
#
# cuBLAS adds the products in another order than OpenBLAS, so results
# agree within a tolerance per dtype relative to the largest output (half
# types: the CPU also sums in float32, so they differ by the last-bit
# rounding of the result).
require "minitest/autorun"
require "mlx"
require_relative "gpu_compare"

unless GPUCompare.runnable?
  class GPUConvTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUConvTest < Minitest::Test
  include GPUCompare
  MX = MLX::Core

  FLOATS = %i[float32 float16 bfloat16 float64].freeze
  TOL = { float32: 1e-4, float64: 1e-12, float16: 1e-2, bfloat16: 4e-2 }.freeze

  COUNTS = Hash.new(0)
  Minitest.after_run do
    next if COUNTS.empty?

    puts "\nGPU vs CPU conv cases: #{COUNTS[:ok]} matched, #{COUNTS[:failed]} differed"
  end

  def setup
    @rng = Random.new(4321)
  end

  # Random values in [-1, 1) of a float dtype, made on the CPU.
  def arr(dtype, shape)
    n = shape.inject(1, :*)
    a = MX.array(Array.new(n) { @rng.rand * 2 - 1 }, dt_obj(dtype)).reshape(shape)
    MX.eval(a)
    a
  end

  # A view of shape `shape` that is not row-contiguous: the array made with
  # the dims in perm order, transposed back.
  def tarr(dtype, shape, perm)
    made = arr(dtype, perm.map { |p| shape[p] })
    inv = Array.new(perm.size)
    perm.each_with_index { |p, i| inv[p] = i }
    t = MX.transpose(made, inv, stream: :cpu)
    MX.eval(t)
    t
  end

  # Compares two results within tol of the largest CPU magnitude.
  def compare(label, cpu, gpu, tol)
    return fail_pair(label, "shape cpu #{cpu.shape} gpu #{gpu.shape}") unless cpu.shape == gpu.shape
    return fail_pair(label, "dtype cpu #{dname(cpu)} gpu #{dname(gpu)}") unless dname(cpu) == dname(gpu)

    cv = flat(cpu)
    gv = flat(gpu)
    scale = [cv.map { |c| c.abs }.max || 0.0, 1e-3].max
    cv.zip(gv).each_with_index do |(c, g), i|
      next if (c - g).abs <= tol * scale

      return fail_pair(label, "element #{i}: cpu #{c.inspect} gpu #{g.inspect} (scale #{scale})")
    end
    COUNTS[:ok] += 1
    :ok
  end

  # Runs blk on the CPU and on the GPU and compares (a result or an Array
  # of results). The GPU must not reject a float convolution.
  def conv_check(label, dtype)
    cpu = yield(:cpu)
    begin
      gpu = yield(GPU)
    rescue MLX::Error => e
      return fail_pair(label, "gpu raised #{e.message}")
    end
    tol = TOL.fetch(dtype)
    return compare(label, cpu, gpu, tol) unless cpu.is_a?(Array)

    cpu.zip(gpu).each_with_index.map { |(c, g), i| compare("#{label}[#{i}]", c, g, tol) }
  end

  def test_conv1d
    FLOATS.each do |dt|
      [1, 3].each do |n|
        x = arr(dt, [n, 13, 6])
        w = arr(dt, [4, 3, 6])
        w2 = arr(dt, [4, 3, 3])
        wd = arr(dt, [12, 3, 1])
        w1 = arr(dt, [5, 1, 6])
        l = "conv1d:#{dt}:n#{n}"
        conv_check("#{l}:plain", dt) { |d| MX.conv1d(x, w, stream: d) }
        conv_check("#{l}:stride2_pad1", dt) { |d| MX.conv1d(x, w, 2, 1, stream: d) }
        conv_check("#{l}:dil2_pad2", dt) { |d| MX.conv1d(x, w, 1, 2, 2, stream: d) }
        conv_check("#{l}:stride3_dil2", dt) { |d| MX.conv1d(x, w, stride: 3, padding: 0, dilation: 2, stream: d) }
        conv_check("#{l}:groups2", dt) { |d| MX.conv1d(x, w2, 1, 1, 1, 2, stream: d) }
        conv_check("#{l}:depthwise", dt) { |d| MX.conv1d(x, wd, 2, 1, 1, 6, stream: d) }
        conv_check("#{l}:1x1", dt) { |d| MX.conv1d(x, w1, stream: d) }
        conv_check("#{l}:1x1_stride2", dt) { |d| MX.conv1d(x, w1, 2, stream: d) }
      end
      xt = tarr(dt, [2, 13, 6], [2, 1, 0])
      wt = tarr(dt, [4, 3, 6], [1, 2, 0])
      w = arr(dt, [4, 3, 6])
      x = arr(dt, [2, 13, 6])
      w1 = arr(dt, [3, 1, 6])
      conv_check("conv1d:#{dt}:transposed_x", dt) { |d| MX.conv1d(xt, w, 2, 1, stream: d) }
      conv_check("conv1d:#{dt}:transposed_w", dt) { |d| MX.conv1d(x, wt, 1, 1, stream: d) }
      conv_check("conv1d:#{dt}:transposed_1x1", dt) { |d| MX.conv1d(xt, w1, stream: d) }
    end
  end

  def test_conv2d
    FLOATS.each do |dt|
      [1, 2].each do |n|
        x = arr(dt, [n, 9, 8, 4])
        w = arr(dt, [6, 3, 3, 4])
        w2 = arr(dt, [6, 3, 2, 2])
        wd = arr(dt, [8, 3, 3, 1])
        w1 = arr(dt, [5, 1, 1, 4])
        l = "conv2d:#{dt}:n#{n}"
        conv_check("#{l}:plain", dt) { |d| MX.conv2d(x, w, stream: d) }
        conv_check("#{l}:stride_pad", dt) { |d| MX.conv2d(x, w, [2, 1], [1, 2], stream: d) }
        conv_check("#{l}:dilation", dt) { |d| MX.conv2d(x, w, [1, 2], [2, 1], [2, 1], stream: d) }
        conv_check("#{l}:groups2", dt) { |d| MX.conv2d(x, w2, [1, 2], [1, 0], [1, 1], 2, stream: d) }
        conv_check("#{l}:depthwise", dt) { |d| MX.conv2d(x, wd, 1, 1, 1, 4, stream: d) }
        conv_check("#{l}:1x1", dt) { |d| MX.conv2d(x, w1, stream: d) }
        conv_check("#{l}:1x1_pad", dt) { |d| MX.conv2d(x, w1, 1, 1, stream: d) }
      end
      xt = tarr(dt, [2, 9, 8, 4], [0, 3, 2, 1])
      wt = tarr(dt, [6, 3, 3, 4], [3, 0, 2, 1])
      w = arr(dt, [6, 3, 3, 4])
      w1 = arr(dt, [3, 1, 1, 4])
      wb = arr(dt, [2, 2, 3, 4])
      conv_check("conv2d:#{dt}:transposed_x", dt) { |d| MX.conv2d(xt, w, 2, 1, stream: d) }
      conv_check("conv2d:#{dt}:transposed_xw", dt) { |d| MX.conv2d(xt, wt, 1, [0, 1], stream: d) }
      conv_check("conv2d:#{dt}:transposed_1x1", dt) { |d| MX.conv2d(xt, w1, stream: d) }
      # a broadcast (stride 0) batch
      xb = MX.broadcast_to(arr(dt, [1, 9, 8, 4]), [3, 9, 8, 4], stream: :cpu)
      conv_check("conv2d:#{dt}:broadcast_x", dt) { |d| MX.conv2d(xb, wb, 1, 1, stream: d) }
    end
  end

  def test_conv3d
    FLOATS.each do |dt|
      [1, 2].each do |n|
        x = arr(dt, [n, 5, 6, 4, 3])
        w = arr(dt, [4, 2, 3, 2, 3])
        l = "conv3d:#{dt}:n#{n}"
        conv_check("#{l}:plain", dt) { |d| MX.conv3d(x, w, stream: d) }
        conv_check("#{l}:stride_pad", dt) { |d| MX.conv3d(x, w, [2, 1, 2], [1, 0, 1], stream: d) }
        conv_check("#{l}:dilation", dt) { |d| MX.conv3d(x, w, 1, [0, 2, 1], [2, 2, 1], stream: d) }
        w1 = arr(dt, [2, 1, 1, 1, 3])
        conv_check("#{l}:1x1", dt) { |d| MX.conv3d(x, w1, stream: d) }
      end
      xt = tarr(dt, [2, 5, 6, 4, 3], [4, 0, 3, 1, 2])
      w = arr(dt, [4, 2, 3, 2, 3])
      conv_check("conv3d:#{dt}:transposed_x", dt) { |d| MX.conv3d(xt, w, 1, 1, stream: d) }
    end
  end

  # Transposed convolutions: input dilation (the stride), a flipped kernel,
  # the padding that makes them the forward convolution's input gradient.
  def test_conv_transpose
    FLOATS.each do |dt|
      x1 = arr(dt, [2, 7, 4])
      x2 = arr(dt, [2, 5, 6, 4])
      x3 = arr(dt, [1, 3, 4, 3, 2])
      w1 = arr(dt, [3, 3, 4])
      w1g = arr(dt, [4, 2, 2])
      w2 = arr(dt, [5, 3, 3, 4])
      w2b = arr(dt, [5, 3, 2, 4])
      w3 = arr(dt, [3, 2, 3, 2, 2])
      conv_check("conv_transpose1d:#{dt}", dt) { |d| MX.conv_transpose1d(x1, w1, 2, 1, stream: d) }
      conv_check("conv_transpose1d_dil:#{dt}", dt) { |d| MX.conv_transpose1d(x1, w1, 3, 0, 2, 1, stream: d) }
      conv_check("conv_transpose1d_groups:#{dt}", dt) { |d| MX.conv_transpose1d(x1, w1g, 2, 0, 1, 0, 2, stream: d) }
      conv_check("conv_transpose2d:#{dt}", dt) { |d| MX.conv_transpose2d(x2, w2, 2, 1, stream: d) }
      conv_check("conv_transpose2d_opad:#{dt}", dt) do |d|
        MX.conv_transpose2d(x2, w2b, [2, 3], [1, 0], [1, 2], [1, 1], stream: d)
      end
      conv_check("conv_transpose3d:#{dt}", dt) { |d| MX.conv_transpose3d(x3, w3, 2, 1, stream: d) }
    end
  end

  # conv_general: asymmetric and negative padding (a slice of the input),
  # input dilation with strides, flip, groups with flip.
  def test_conv_general
    FLOATS.each do |dt|
      x = arr(dt, [2, 9, 8, 4])
      w = arr(dt, [6, 3, 3, 4])
      wg = arr(dt, [6, 2, 3, 2])
      l = "conv_general:#{dt}"
      conv_check("#{l}:asym_pad", dt) { |d| MX.conv_general(x, w, 1, [[2, 0], [1, 3]], stream: d) }
      conv_check("#{l}:neg_pad", dt) { |d| MX.conv_general(x, w, 1, [[-1, 2], [1, 0]], stream: d) }
      conv_check("#{l}:flip", dt) { |d| MX.conv_general(x, w, 1, 1, flip: true, stream: d) }
      conv_check("#{l}:input_dil", dt) do |d|
        MX.conv_general(x, w, [2, 1], [[1, 2], [0, 1]], [1, 2], [3, 2], stream: d)
      end
      conv_check("#{l}:input_dil_flip", dt) do |d|
        MX.conv_general(x, w, 1, 2, 2, [2, 3], 1, true, stream: d)
      end
      conv_check("#{l}:groups_flip", dt) do |d|
        MX.conv_general(x, wg, [1, 2], 1, 1, 2, 2, true, stream: d)
      end
      x1 = arr(dt, [3, 10, 2])
      w1 = arr(dt, [3, 4, 2])
      conv_check("#{l}:1d_all", dt) do |d|
        MX.conv_general(x1, w1, 2, [[3], [1]], 2, 3, 1, true, stream: d)
      end
    end
    # operands of two dtypes (promoted, then cast on the device)
    x = arr(:float16, [2, 9, 8, 4])
    w = arr(:float32, [6, 3, 3, 4])
    conv_check("conv2d:mixed", :float32) { |d| MX.conv2d(x, w, 1, 1, stream: d) }
  end

  # Empty batch, no input channels, input with empty spatial dims under
  # padding (all zeros).
  def test_empty
    FLOATS.each do |dt|
      o = dt_obj(dt)
      w = arr(dt, [6, 3, 3, 4])
      conv_check("conv2d_empty_batch:#{dt}", dt) { |d| MX.conv2d(MX.zeros([0, 9, 8, 4], o), w, stream: d) }
      x0 = MX.zeros([2, 5, 0], o)
      w0 = MX.zeros([3, 2, 0], o)
      conv_check("conv1d_no_channels:#{dt}", dt) { |d| MX.conv1d(x0, w0, stream: d) }
      xe = MX.zeros([2, 0, 3], o)
      we = arr(dt, [3, 2, 3])
      conv_check("conv1d_empty_len:#{dt}", dt) { |d| MX.conv1d(xe, we, 1, 2, stream: d) }
    end
  end

  # A column matrix over the chunk size (256 MiB): several chunks, one
  # of them across two images.
  def test_large_chunked
    key = MX.key(7)
    x = MX.uniform([2, 384, 384, 16], -1.0, 1.0, MX.float32, key: key, stream: :cpu)
    w = MX.uniform([8, 5, 5, 16], -1.0, 1.0, MX.float32, key: MX.key(8), stream: :cpu)
    MX.eval(x, w)
    assert_close_to_cpu(MX.conv2d(x, w, 1, 2, stream: :cpu), MX.conv2d(x, w, 1, 2, stream: GPU), 1e-4, "conv2d large")
  end

  # gpu agrees with cpu within rel times the largest magnitude of cpu.
  def assert_close_to_cpu(cpu, gpu, rel, label)
    assert_equal cpu.shape, gpu.shape
    diff = MX.max(MX.abs(MX.subtract(cpu, gpu, stream: :cpu), stream: :cpu), stream: :cpu).item
    scale = MX.max(MX.abs(cpu, stream: :cpu), stream: :cpu).item
    assert_operator diff, :<=, rel * scale, "#{label}: max diff #{diff}, scale #{scale}"
    COUNTS[:ok] += 1
  end

  # A small CNN's layers (the cnn benchmark's): conv (the direct kernel),
  # its bias and relu (one elementwise run), a max pool; 20 output
  # channels leave a partial chunk of channels.
  def test_small_cnn_layers
    x = MX.uniform([8, 64, 64, 3], -1.0, 1.0, MX.float32, key: MX.key(3), stream: :cpu)
    [[[16, 3, 3, 3], 1], [[20, 3, 3, 3], 2]].each_with_index do |(wshape, stride), i|
      w = MX.uniform(wshape, -1.0, 1.0, MX.float32, key: MX.key(10 + i), stream: :cpu)
      b = MX.uniform([wshape[0]], -1.0, 1.0, MX.float32, key: MX.key(20 + i), stream: :cpu)
      MX.eval(x, w, b)
      layer = lambda do |d|
        y = MX.maximum(MX.add(MX.conv2d(x, w, stride, 1, stream: d), b, stream: d), 0, stream: d)
        n, h, wd, c = y.shape
        MX.max(MX.transpose(MX.reshape(y, [n, h / 2, 2, wd / 2, 2, c], stream: d), [0, 1, 3, 2, 4, 5], stream: d),
               [3, 4], stream: d)
      end
      assert_close_to_cpu(layer.call(:cpu), layer.call(GPU), 1e-5, "cnn layer #{i}")
    end
  end

  # grad of a conv loss with respect to the input and the weight, on the
  # GPU against the CPU: the vjp is made of convolutions (input dilation,
  # flips, negative padding, transposed views).
  def test_gradients
    %i[float32 float64 float16].each do |dt|
      x1 = arr(dt, [2, 11, 4])
      w1 = arr(dt, [6, 3, 2])
      r1 = arr(dt, [2, 6, 6])
      conv_check("grad_conv1d:#{dt}", dt) do |d|
        f = ->(a, b) { MX.sum(MX.multiply(MX.conv1d(a, b, 2, 1, 1, 2, stream: d), r1, stream: d), stream: d) }
        MX.grad(f, argnums: [0, 1]).call(x1, w1)
      end
      x2 = arr(dt, [2, 7, 6, 3])
      w2 = arr(dt, [4, 3, 2, 3])
      r2 = arr(dt, [2, 4, 2, 4])
      conv_check("grad_conv2d:#{dt}", dt) do |d|
        f = ->(a, b) { MX.sum(MX.multiply(MX.conv2d(a, b, 2, [1, 0], [1, 2], stream: d), r2, stream: d), stream: d) }
        MX.grad(f, argnums: [0, 1]).call(x2, w2)
      end
      wd = arr(dt, [3, 3, 3, 1])
      rd = arr(dt, [2, 7, 6, 3])
      conv_check("grad_depthwise:#{dt}", dt) do |d|
        f = ->(a, b) { MX.sum(MX.multiply(MX.conv2d(a, b, 1, 1, 1, 3, stream: d), rd, stream: d), stream: d) }
        MX.grad(f, argnums: [0, 1]).call(x2, wd)
      end
      x3 = arr(dt, [1, 4, 5, 4, 2])
      w3 = arr(dt, [3, 2, 2, 3, 2])
      conv_check("grad_conv3d:#{dt}", dt) do |d|
        f = ->(a, b) { MX.sum(MX.square(MX.conv3d(a, b, 1, 1, stream: d), stream: d), stream: d) }
        MX.grad(f, argnums: [0, 1]).call(x3, w3)
      end
      wt = arr(dt, [5, 3, 3, 3])
      conv_check("grad_conv_transpose2d:#{dt}", dt) do |d|
        f = ->(a, b) { MX.sum(MX.square(MX.conv_transpose2d(a, b, 2, 1, stream: d), stream: d), stream: d) }
        MX.grad(f, argnums: [0, 1]).call(x2, wt)
      end
    end
  end
end
