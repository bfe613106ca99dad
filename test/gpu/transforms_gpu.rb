# frozen_string_literal: true

# The function transforms on GPU arrays: grad, value_and_grad, vjp, jvp,
# vmap (and grad of vmap) and compile of small functions built from
# products, elementwise ops, reductions, softmax, indexing and
# concatenation, run with the GPU as the default device and compared with
# the same transforms on the CPU (float32, within 1e-5 relative: the GPU
# adds products and sums in another order). Needs a build with MLX_CUDA=1
# and a GPU (test/gpu/run.sh); skips otherwise.
require "minitest/autorun"
require "mlx"
require_relative "gpu_compare"

unless GPUCompare.runnable?
  class GPUTransformsTest < Minitest::Test
    def test_gpu_unavailable = skip("no GPU: #{MLX::Core.gpu_unavailable_reason}")
  end
  return
end

class GPUTransformsTest < Minitest::Test
  include GPUCompare
  MX = MLX::Core
  TOL = 1e-5
  COUNTS = Hash.new(0)

  def setup
    @rng = Random.new(99)
    @x = arr([6, 8])
    @w = arr([8, 5])
    @v = arr([6, 5])
    @batch = arr([4, 6, 8])
  end

  def arr(shape)
    n = shape.inject(1, :*)
    a = MX.array(Array.new(n) { @rng.rand * 2 - 1 }, MX.float32).reshape(shape)
    MX.eval(a)
    a
  end

  # blk's results (an array or a list of arrays) with `device` as the
  # default device.
  def on(device)
    prev = MX.default_device
    MX.set_default_device(device == :gpu ? MX.gpu : MX.cpu)
    out = yield
    list = out.is_a?(Array) ? out.flatten : [out]
    MX.eval(*list)
    list
  ensure
    MX.set_default_device(prev)
  end

  def check(label, &blk)
    cpu = on(:cpu, &blk)
    gpu = on(GPU, &blk)
    assert_equal cpu.size, gpu.size, label
    cpu.zip(gpu).each_with_index do |(c, g), k|
      assert_equal c.shape, g.shape, "#{label}[#{k}] shape"
      flat(c).zip(flat(g)).each_with_index do |(a, b), i|
        next if same?(a, b) || close?(a, b, TOL)

        fail_pair("#{label}[#{k}]", "element #{i}: cpu #{a} gpu #{b}")
        break
      end
    end
    COUNTS[:ok] += 1
  end

  # A scalar function of x [6, 8] and w [8, 5] through most op families.
  def loss(x, w)
    h = MX.tanh(MX.matmul(x, w))
    s = MX.softmax(h, -1)
    picked = MX.take(s, MX.array([0, 2, 4], MX.int32), 1)
    both = MX.concatenate([picked, MX.exp(MX.multiply(h, -0.5))], 1)
    MX.add(MX.mean(MX.square(both)), MX.sum(MX.multiply(x, 0.01)))
  end

  def test_grad_and_value_and_grad
    check("grad") { MX.grad(method(:loss), argnums: [0, 1]).call(@x, @w) }
    check("value_and_grad") { MX.value_and_grad(method(:loss), argnums: [0, 1]).call(@x, @w) }
  end

  def test_vjp_and_jvp
    f = ->(x, w) { MX.tanh(MX.matmul(x, w)) }
    check("vjp") { MX.vjp(f, [@x, @w], [@v]) }
    check("jvp") { MX.jvp(f, [@x, @w], [MX.ones_like(@x), MX.multiply(MX.ones_like(@w), 0.5)]) }
  end

  def test_vmap
    per = ->(x) { MX.softmax(MX.matmul(x, @w), -1) }
    check("vmap") { MX.vmap(per).call(@batch) }
    check("grad_of_vmap") do
      MX.grad(->(b) { MX.sum(MX.vmap(per).call(b)) }).call(@batch)
    end
  end

  def test_compile
    f = ->(x, w) { loss(x, w) }
    check("compile") { MX.compile(f).call(@x, @w) }
    check("compile_grad") { MX.compile(MX.grad(f, argnums: [0, 1])).call(@x, @w) }
  end
end
