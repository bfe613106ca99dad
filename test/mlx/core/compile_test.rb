# frozen_string_literal: true

require "test_helper"
require "tmpdir"
require "rbconfig"

# compile: compiled results equal uncompiled ones bit for bit, trees in and
# out, when the function is traced again (shapes, dtypes, constants,
# structure, shapeless), captured state (inputs:/outputs:), randomness,
# exceptions, grad through compiled functions, disable_compile, and a
# compiled SGD training step against the uncompiled one.
class CompileTest < Minitest::Test
  class Boom < StandardError; end

  # Holds a live state tree, as MLX::NN::Module and optimizers will.
  class Holder
    attr_reader :state

    def initialize(state)
      @state = state
    end
  end

  CHAINS = {
    "exp_sin" => ->(x, y) { MX.exp(-x) * y + MX.sin(x) / (y + 2.0) },
    "gelu" => ->(x, _) { 0.5 * x * (1 + MX.tanh(0.7978845608 * (x + 0.044715 * x * x * x))) },
    "where" => ->(x, y) { MX.where(x > y, x - y, MX.abs(y) * 3) },
    "cast" => ->(x, y) { (x.astype(:float32) * 2 + y.astype(:float32)).astype(x.dtype) },
    "max_sqrt" => ->(x, y) { MX.sqrt(MX.maximum(x, y) * MX.maximum(x, y) + 1) - MX.minimum(x, 0.5) }
  }.freeze

  def teardown
    MX.enable_compile
  end

  def xy(dtype)
    x = MX.array([[0.5, -1.25, 2.0, 3.5], [1.0, -0.3, 0.7, 0.1], [2.5, -2.0, 1.5, -0.75]], dtype)
    [x, MX.array([1.5, 0.25, -0.5, 2.0], dtype)]
  end

  def counting(&fun)
    calls = [0]
    f = lambda do |*a, **k|
      calls[0] += 1
      fun.call(*a, **k)
    end
    [f, calls]
  end

  # ---- results --------------------------------------------------------------------

  def test_elementwise_chains_are_exact
    %i[float32 float16 bfloat16 float64].each do |dt|
      x, y = xy(dt)
      CHAINS.each do |name, f|
        c = MX.compile(f)
        want = f.call(x, y)
        2.times do |i|
          got = c.call(x, y)
          assert_equal want.dtype, got.dtype, "#{name} #{dt}"
          assert_equal want.shape, got.shape, "#{name} #{dt}"
          assert_equal want.to_a, got.to_a, "#{name} #{dt} call #{i}"
        end
      end
    end
  end

  def test_integers_broadcast_and_views
    f = ->(x) { (x * 3 + 7) / 2 - MX.abs(x) }
    xi = MX.array([[1, -2, 3], [4, 5, -6]], :int32)
    assert_equal f.call(xi).to_a, MX.compile(f).call(xi).to_a

    g = ->(x, b) { MX.exp(x) * 2 + x - b }
    m = MX.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = MX.array([0.5, 1.5])
    c = MX.compile(g)
    # A transposed (non-contiguous) input and a broadcast one.
    assert_equal g.call(m.T, b).to_a, c.call(m.T, b).to_a
    assert_equal g.call(MX.ones([3, 2]), b).to_a, c.call(MX.ones([3, 2]), b).to_a
    # Scalars and 0-d arrays.
    assert_equal g.call(MX.array(1.5), MX.array(2.0)).item, c.call(MX.array(1.5), MX.array(2.0)).item
  end

  def test_power_and_reductions_inside
    f = ->(x) { MX.sum(MX.power(x, 3) + x, 1) / MX.max(x) }
    x = MX.array([[1.0, 2.0], [3.0, -4.0]])
    assert_equal f.call(x).to_a, MX.compile(f).call(x).to_a
  end

  def test_returns_a_proc_and_takes_a_block
    c = MX.compile { |x| x * 2 }
    assert_kind_of Proc, c
    x = MX.array([1.0, 2.0])
    assert_equal [2.0, 4.0], c.call(x).to_a
    assert_equal [2.0, 4.0], c[x].to_a
    assert_equal [[2.0, 4.0]], [x].map(&c).map(&:to_a)
    assert_raises(ArgumentError) { MX.compile }
    assert_raises(TypeError) { MX.compile(42) }
  end

  # ---- trees -----------------------------------------------------------------------

  def test_trees_in_and_out
    f = lambda do |p, pair, scale:|
      { "y" => p["w"] * pair[0] + p[:b], "rest" => [pair[1] * scale, 7, { "n" => nil }] }
    end
    c = MX.compile(f)
    p = { "w" => MX.array([1.0, 2.0]), b: MX.array(0.5) }
    pair = [MX.array([3.0, 4.0]), MX.array([[1.0], [2.0]])]
    want = f.call(p, pair, scale: MX.array(3.0))
    got = c.call(p, pair, scale: MX.array(3.0))
    assert_equal %w[y rest], got.keys
    assert_equal want["y"].to_a, got["y"].to_a
    assert_equal want["rest"][0].to_a, got["rest"][0].to_a
    assert_equal 7, got["rest"][1]
    assert_equal({ "n" => nil }, got["rest"][2])
    # A second call replays and rebuilds the same structure.
    got = c.call(p, pair, scale: MX.array(3.0))
    assert_equal [3.5, 8.5], got["y"].to_a
    assert_equal [[3.0], [6.0]], got["rest"][0].to_a
  end

  def test_single_array_and_list_outputs
    one = MX.compile(->(x) { x + 1 })
    assert_kind_of MX::Array, one.call(MX.array([1.0]))
    two = MX.compile(->(x) { [x + 1, x * 2] })
    a, b = two.call(MX.array([1.0]))
    assert_equal [[2.0], [2.0]], [a.to_a, b.to_a]
    same = MX.compile(->(x) { x })
    assert_equal [5.0], same.call(MX.array([5.0])).to_a
  end

  def test_unsupported_argument_types
    c = MX.compile(->(x, _o) { x })
    err = assert_raises(ArgumentError) { c.call(MX.array(1.0), Object.new) }
    assert_match(/\[compile\] Function arguments must be trees of arrays or constants/, err.message)
  end

  # ---- when fun is traced ------------------------------------------------------------

  def test_not_retraced_on_the_same_signature
    f, calls = counting { |x, y| MX.exp(x) * y }
    c = MX.compile(f)
    x = MX.array([1.0, 2.0, 3.0])
    5.times { |i| assert_equal f.call(x, x + i).to_a, c.call(x, x + i).to_a }
    assert_equal 1 + 5, calls[0] # 5 direct calls above + 1 trace
  end

  def test_retraced_on_new_shapes_dtypes_and_structure
    f, calls = counting { |x| x * 2 }
    c = MX.compile(f)
    c.call(MX.array([1.0, 2.0]))
    c.call(MX.array([3.0, 4.0]))
    assert_equal 1, calls[0]
    assert_equal [2.0, 4.0, 6.0], c.call(MX.array([1.0, 2.0, 3.0])).to_a
    assert_equal 2, calls[0]
    assert_equal [2, 4], c.call(MX.array([1, 2])).to_a
    assert_equal MX.int32, c.call(MX.array([1, 2])).dtype
    assert_equal 3, calls[0]
    c.call(MX.array([5.0, 6.0])) # the first signature is still known
    assert_equal 3, calls[0]

    g, gcalls = counting { |t| t.is_a?(Hash) ? t["a"] + t["b"] : t[0] + t[1] }
    cg = MX.compile(g)
    x = MX.array([1.0])
    assert_equal [2.0], cg.call([x, x]).to_a
    assert_equal [2.0], cg.call({ "a" => x, "b" => x }).to_a
    assert_equal 2, gcalls[0]
  end

  def test_retraced_when_constants_change
    f, calls = counting { |x, k, mode| mode == "add" ? x + k : x * k }
    c = MX.compile(f)
    x = MX.array([1.0, 2.0])
    assert_equal [3.0, 4.0], c.call(x, 2, "add").to_a
    assert_equal [3.0, 4.0], c.call(x, 2, "add").to_a
    assert_equal 1, calls[0]
    assert_equal [4.0, 5.0], c.call(x, 3, "add").to_a
    assert_equal [3.0, 6.0], c.call(x, 3, "mul").to_a
    assert_equal [1.5, 3.0], c.call(x, 1.5, "mul").to_a
    assert_equal 4, calls[0]
    assert_equal [4.0, 5.0], c.call(x, 3, "add").to_a
    assert_equal 4, calls[0]
    # 2 and 2.0 are different constants; so are 0.0 and -0.0.
    c.call(x, 2.0, "add")
    assert_equal 5, calls[0]
    h = MX.compile(->(a, z) { a / z })
    assert_equal [Float::INFINITY, Float::INFINITY], h.call(x, 0.0).to_a
    assert_equal [-Float::INFINITY, -Float::INFINITY], h.call(x, -0.0).to_a
    # nil, Symbols, booleans and keyword constants.
    k, kcalls = counting { |a, flag = nil, scale: 1| flag ? a * scale : a - scale }
    ck = MX.compile(k)
    assert_equal [0.0, 1.0], ck.call(x).to_a
    assert_equal [2.0, 4.0], ck.call(x, true, scale: 2).to_a
    assert_equal [-1.0, 0.0], ck.call(x, nil, scale: 2).to_a
    assert_equal [3.0, 6.0], ck.call(x, :on, scale: 3).to_a
    assert_equal 4, kcalls[0]
  end

  def test_shapeless
    f, calls = counting { |x, y| MX.exp(x) * y - 1 }
    c = MX.compile(f, shapeless: true)
    a = MX.array([1.0, 2.0])
    assert_equal f.call(a, a).to_a, c.call(a, a).to_a
    b = MX.array([0.5, 1.5, -2.0])
    assert_equal f.call(b, b).to_a, c.call(b, b).to_a
    assert_equal 3, calls[0] # 2 direct + 1 trace
    m = MX.array([[1.0], [2.0]])
    assert_equal f.call(m, m).to_a, c.call(m, m).to_a # new rank: traced again
    i = MX.array([1, 2])
    assert_equal f.call(i, i).to_a, c.call(i, i).to_a # new dtype: traced again
    assert_equal 7, calls[0]
    # Positional form: compile(fun, inputs, outputs, shapeless).
    g, gcalls = counting { |x| x + 1 }
    cg = MX.compile(g, nil, nil, true)
    cg.call(MX.array([1.0]))
    assert_equal [2.0, 3.0, 4.0], cg.call(MX.array([1.0, 2.0, 3.0])).to_a
    assert_equal 1, gcalls[0]
  end

  def test_nested_compiled_functions
    inner, icalls = counting { |x| x * 3 }
    ci = MX.compile(inner)
    outer, ocalls = counting { |x, k| ci.call(x) + k }
    co = MX.compile(outer)
    x = MX.array([1.0, 2.0])
    assert_equal [4.0, 7.0], co.call(x, 1).to_a
    assert_equal [4.0, 7.0], co.call(x, 1).to_a
    assert_equal [5.0, 8.0], co.call(x, 2).to_a
    assert_equal [2, 2], [icalls[0], ocalls[0]]
  end

  # ---- captured state ------------------------------------------------------------------

  def test_inputs_state_is_not_baked_in
    state = { "w" => MX.array([1.0, 2.0]) }
    f, calls = counting { |x| x * state["w"] }
    c = MX.compile(f, inputs: state)
    x = MX.array([3.0, 3.0])
    assert_equal [3.0, 6.0], c.call(x).to_a
    state["w"] = MX.array([10.0, 20.0])
    assert_equal [30.0, 60.0], c.call(x).to_a
    assert_equal 1, calls[0]
    assert_equal [10.0, 20.0], state["w"].to_a # the tracer is gone again
  end

  def test_outputs_state_is_written_back
    state = { "count" => MX.array(0.0), "hist" => [MX.array([0.0, 0.0])] }
    f, calls = counting do |x|
      state["count"] = state["count"] + 1
      state["hist"][0] = state["hist"][0] + x
      state["count"] * 10
    end
    c = MX.compile(f, inputs: state, outputs: state)
    x = MX.array([1.0, 2.0])
    outs = Array.new(3) { c.call(x).item }
    assert_equal [10.0, 20.0, 30.0], outs
    assert_equal 3.0, state["count"].item
    assert_equal [3.0, 6.0], state["hist"][0].to_a
    assert_equal 1, calls[0]
  end

  def test_objects_with_state_and_lists_of_them
    model = Holder.new({ "w" => MX.array([2.0]), "layers" => [{ "b" => MX.array([1.0]) }] })
    opt = Holder.new({ "step" => MX.array(0) })
    f, calls = counting do |x|
      model.state["w"] = model.state["w"] * 2
      opt.state["step"] = opt.state["step"] + 1
      x * model.state["w"] + model.state["layers"][0]["b"]
    end
    c = MX.compile(f, inputs: [model, opt], outputs: [model, opt])
    x = MX.array([1.0])
    assert_equal [5.0], c.call(x).to_a
    assert_equal [9.0], c.call(x).to_a
    assert_equal [8.0], model.state["w"].to_a
    assert_equal 2, opt.state["step"].item
    assert_equal 1, calls[0]
    model.state["layers"][0]["b"] = MX.array([100.0])
    assert_equal [116.0], c.call(x).to_a
    assert_equal 1, calls[0]
    assert_raises(TypeError) { MX.compile(f, inputs: MX.array(1.0)) }
    assert_raises(TypeError) { MX.compile(f, outputs: 3) }
  end

  def test_state_grows_during_the_first_trace
    # Like an optimizer that creates its slots on the first update.
    state = { "w" => MX.array([1.0]) }
    f, calls = counting do |g|
      state["m"] = (state["m"] || MX.zeros([1])) * 0.5 + g
      state["w"] = state["w"] - state["m"]
      state["w"]
    end
    c = MX.compile(f, inputs: state, outputs: state)
    g = MX.array([1.0])
    ref = { "w" => MX.array([1.0]) }
    step = lambda do |gr|
      ref["m"] = (ref["m"] || MX.zeros([1])) * 0.5 + gr
      ref["w"] = ref["w"] - ref["m"]
    end
    4.times do
      step.call(g)
      assert_equal ref["w"].to_a, c.call(g).to_a
    end
    assert_equal ref["m"].to_a, state["m"].to_a
    assert_equal 2, calls[0] # before and after "m" exists
  end

  # ---- randomness, errors, transforms ----------------------------------------------

  def test_randomness_matches_uncompiled
    f = ->(x) { x + MX.uniform([3]) * MX.normal([3]) }
    x = MX.array([1.0, 2.0, 3.0])
    MX.seed(7)
    want = Array.new(3) { f.call(x).to_a }
    MX.seed(7)
    c = MX.compile(f)
    got = Array.new(3) { c.call(x).to_a }
    assert_equal want, got
    refute_equal got[0], got[1]
    # The global sequence advances as without compile.
    after = MX.uniform([2]).to_a
    MX.seed(7)
    3.times { f.call(x) }
    assert_equal MX.uniform([2]).to_a, after
  end

  def test_exceptions_propagate_with_class_and_message
    state = { "w" => MX.array([1.0]) }
    fail_now = [true]
    f = lambda do |x|
      state["w"] = state["w"] + x
      raise Boom, "bad step #{x.shape.inspect}" if fail_now[0]

      state["w"]
    end
    c = MX.compile(f, inputs: state, outputs: state)
    x = MX.array([2.0])
    err = assert_raises(Boom) { c.call(x) }
    assert_equal "bad step [1]", err.message
    # The state holds its arrays again, not tracers.
    assert_equal [1.0], state["w"].to_a
    fail_now[0] = false
    assert_equal [3.0], c.call(x).to_a
    assert_equal [3.0], state["w"].to_a
    # Engine errors raised by ops inside fun keep their class.
    bad = MX.compile(->(a, b) { a + b })
    assert_raises(MLX::ShapeError) { bad.call(MX.ones([2]), MX.ones([3])) }
  end

  def test_grad_of_a_compiled_function_and_compile_of_grad
    f = ->(x, y) { MX.sum(MX.sin(x) * y + x * x) }
    c = MX.compile(f)
    x = MX.array([0.5, 1.0, 2.0])
    y = MX.array([1.0, -2.0, 3.0])
    want = MX.grad(f).call(x, y).to_a
    assert_equal want, MX.grad(c).call(x, y).to_a
    assert_equal want, MX.grad(c).call(x, y).to_a
    cg = MX.compile(MX.grad(f))
    assert_equal want, cg.call(x, y).to_a
    assert_equal want, cg.call(x, y).to_a
    v, g = MX.value_and_grad(c).call(x, y)
    assert_equal f.call(x, y).item, v.item
    assert_equal want, g.to_a
  end

  def test_disable_compile
    f, calls = counting { |x| x + 1 }
    c = MX.compile(f)
    x = MX.array([1.0])
    c.call(x)
    c.call(x)
    assert_equal 1, calls[0]
    MX.disable_compile
    assert_equal [2.0], c.call(x).to_a
    assert_equal [2.0], c.call(x).to_a
    assert_equal 3, calls[0]
    state = { "n" => MX.array(0.0) }
    s = MX.compile(->(_) { state["n"] = state["n"] + 1 }, inputs: state, outputs: state)
    3.times { s.call(x) }
    assert_equal 3.0, state["n"].item
    MX.enable_compile
    c.call(x)
    assert_equal 3, calls[0]
  end

  def test_mlx_disable_compile_environment
    lib = File.expand_path("../../../lib", __dir__)
    script = <<~RUBY
      require "mlx"
      n = 0
      c = MLX::Core.compile(->(x) { n += 1; x * 2 })
      3.times { c.call(MLX::Core.array([1.0])) }
      MLX::Core.enable_compile
      3.times { c.call(MLX::Core.array([1.0])) }
      print n
    RUBY
    # IO.popen, not Open3: no waiter thread (a Ruby thread exiting trips
    # AddressSanitizer's alternate-stack check under rake test:asan).
    out = IO.popen({ "MLX_DISABLE_COMPILE" => "1" }, [RbConfig.ruby, "-I#{lib}", "-e", script], &:read)
    assert_predicate $?, :success?
    assert_equal "4", out
  end

  def test_cache_dir_and_clear_cache
    Dir.mktmpdir do |dir|
      MX.set_compile_cache_dir(dir)
      f, calls = counting { |x| MX.exp(x) * 3 + MX.cos(x) * x - 0.25 }
      c = MX.compile(f)
      x = MX.array([0.25, 0.5])
      want = f.call(x).to_a
      assert_equal want, c.call(x).to_a
      refute_empty Dir.children(dir) # the fused kernel was built there
      MX.compile_clear_cache
      assert_empty Dir.children(dir)
      assert_equal want, c.call(x).to_a
      assert_equal 3, calls[0] # 1 direct + traced before and after the clear
    ensure
      MX.set_compile_cache_dir(nil)
    end
  end

  def test_compiled_functions_are_collected
    refs = ObjectSpace::WeakMap.new
    5.times do |i|
      c = MX.compile(->(x) { x + i })
      c.call(MX.array([1.0]))
      refs[c] = true
    end
    GC.start
    # The callable closes over the compiled function that marks it: the
    # cycle must stay collectable (conservative stack scanning may keep one).
    assert_operator refs.keys.size, :<=, 1
  end

  # ---- acceptance: a compiled SGD step ----------------------------------------------

  def mlp_params
    k1, k2 = MX.random_split(MX.key(1))
    { "w1" => MX.normal([8, 16], 0.0, 0.3, :float32, k1), "b1" => MX.zeros([16]),
      "w2" => MX.normal([16, 1], 0.0, 0.3, :float32, k2), "b2" => MX.zeros([1]) }
  end

  def sgd_step(params, lr, calls)
    loss_fn = lambda do |p, x, y|
      h = MX.tanh(MX.matmul(x, p["w1"]) + p["b1"])
      MX.mean(MX.square(MX.matmul(h, p["w2"]) + p["b2"] - y))
    end
    vg = MX.value_and_grad(loss_fn)
    lambda do |x, y|
      calls[0] += 1
      loss, grads = vg.call(params, x, y)
      params.each_key { |k| params[k] = params[k] - lr * grads[k] }
      loss
    end
  end

  def test_compiled_sgd_training_step_matches_uncompiled
    x = MX.normal([32, 8], 0.0, 1.0, :float32, MX.key(2))
    y = MX.normal([32, 1], 0.0, 1.0, :float32, MX.key(3))
    plain_params = mlp_params
    plain = sgd_step(plain_params, 0.1, [0])
    params = mlp_params
    calls = [0]
    compiled = MX.compile(sgd_step(params, 0.1, calls), inputs: params, outputs: params)
    losses = 20.times.map do
      a = plain.call(x, y)
      b = compiled.call(x, y)
      MX.eval(a, b, plain_params, params)
      [a.item, b.item]
    end
    losses.each_with_index do |(a, b), i|
      assert_in_delta a, b, 1e-6 * a.abs, "step #{i}: #{a} vs #{b}"
    end
    assert_operator losses[-1][1], :<, losses[0][1]
    assert_equal 1, calls[0]
    params.each { |k, v| assert_in_delta 0.0, MX.max(MX.abs(v - plain_params[k])).item, 1e-6, k }
  end
end
