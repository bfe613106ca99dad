# frozen_string_literal: true

require "test_helper"

# Function transforms: grad / value_and_grad / vjp / jvp / vmap replayed
# against Python MLX (test/fixtures/transforms.json, written by
# test/fixtures/generate_transforms.py), plus trees, argnums/argnames,
# auxiliary outputs, second order, custom functions, checkpoint, depends
# and exceptions raised inside traced functions.
class TransformsTest < Minitest::Test
  FIX = MLXTestHelper.fixture("transforms")
  # Gradients go through several ops whose float32 rounding differs from
  # upstream's in the last bits.
  TOL = [1e-4, 1e-5].freeze

  # The functions of generate_transforms.py, same names.
  FUNCS = {
    "sin_x" => ->(x) { MX.sum(MX.sin(x) * x) },
    "exp_tanh" => ->(x, y) { MX.sum(MX.tanh(x) * MX.exp(y)) },
    "log_sqrt" => ->(x, y) { MX.sum(MX.log(x) / MX.sqrt(y) + x * y) },
    "broadcast" => ->(x, b, c) { MX.sum((x + b) * c) },
    "mean_square" => ->(x) { MX.mean(MX.square(x - 0.5)) },
    "max_min" => ->(x, y) { MX.sum(MX.maximum(x, y) - MX.minimum(x, 2 * y)) },
    "logsumexp" => ->(x) { MX.sum(MX.logsumexp(x, 1)) },
    "softmax_ce" => ->(x, t) { -MX.mean(MX.sum(t * (x - MX.logsumexp(x, 1, true)), 1)) },
    "matmul" => ->(x, w, b) { MX.sum(MX.square(MX.matmul(x, w) + b)) },
    "reshape_transpose" => ->(x) { MX.sum(MX.reshape(MX.transpose(x), [-1]) * MX.arange(6, dtype: :float32)) },
    "sigmoid_var" => ->(x) { MX.sum(MX.var(MX.sigmoid(x), 0)) },
    "divide_pow" => ->(x, y) { MX.sum(x / (1.0 + y * y) + MX.power(MX.abs(x) + 1.0, 1.5)) }
  }.freeze

  VEC2 = ->(x, y) { [MX.sin(x) * y, x + MX.exp(y), MX.sum(x * y, -1)] }

  def dec(tree)
    case tree
    when ::Array then tree.map { |t| dec(t) }
    when Hash then encoded_array?(tree) ? decode_array(tree) : tree.transform_values { |t| dec(t) }
    else tree
    end
  end

  # Compares a tree of arrays with an encoded tree.
  def assert_tree(expected, actual, label)
    if encoded_array?(expected)
      assert_array_matches(expected, actual, label, tol: TOL)
    else
      assert_kind_of ::Array, actual, label
      assert_equal expected.size, actual.size, "#{label}: size"
      expected.zip(actual).each_with_index { |(e, a), i| assert_tree(e, a, "#{label}[#{i}]") }
    end
  end

  def cases(kind)
    FIX["cases"].select { |c| c["kind"] == kind }
  end

  def x3 = MX.array([1.0, 2.0, 3.0])
  def y3 = MX.array([4.0, 5.0, 6.0])

  # ---- oracle ------------------------------------------------------------------
  def test_oracle_value_and_grad
    cases("value_and_grad").each do |c|
      value, grads = MX.value_and_grad(FUNCS.fetch(c["fun"]), c["argnums"]).call(*dec(c["inputs"]))
      assert_tree(c["value"], value, "#{c['fun']} value")
      assert_tree(c["grads"], grads.is_a?(::Array) ? grads : [grads], "#{c['fun']} grads")
    end
  end

  def test_oracle_grad_single_argnum
    cases("grad").each do |c|
      g = MX.grad(FUNCS.fetch(c["fun"]), argnums: c["argnums"]).call(*dec(c["inputs"]))
      assert_tree(c["grads"], g, "#{c['fun']} grad wrt #{c['argnums']}")
    end
  end

  def test_oracle_vjp_and_jvp
    c = cases("vjp").first
    outs, vjps = MX.vjp(VEC2, dec(c["inputs"]), dec(c["cotangents"]))
    assert_tree(c["outputs"], outs, "vjp outputs")
    assert_tree(c["vjps"], vjps, "vjps")
    c = cases("jvp").first
    outs, jvps = MX.jvp(VEC2, dec(c["inputs"]), dec(c["tangents"]))
    assert_tree(c["outputs"], outs, "jvp outputs")
    assert_tree(c["jvps"], jvps, "jvps")
  end

  def test_oracle_vmap
    cases("vmap").each do |c|
      out = MX.vmap(VEC2, in_axes: c["in_axes"], out_axes: c["out_axes"]).call(*dec(c["inputs"]))
      assert_tree(c["out"], out, "vmap in_axes=#{c['in_axes']} out_axes=#{c['out_axes']}")
    end
    c = cases("vmap_nested").first
    m, v = dec(c["inputs"])
    dot = ->(a, b) { MX.sum(a * b) }
    mv = MX.vmap(MX.vmap(dot, [0, nil]), [nil, 0]).call(m, MX.stack([v, 2 * v]))
    assert_tree(c["out"], mv, "vmap of vmap")
  end

  def test_oracle_second_order
    c = cases("grad_of_grad").first
    f = FUNCS["sin_x"]
    d2 = MX.grad(->(x) { MX.sum(MX.grad(f).call(x)) }).call(*dec(c["inputs"]))
    assert_tree(c["out"], d2, "grad of grad")

    c = cases("jvp_of_grad").first
    x, y, v = dec(c["inputs"])
    g = FUNCS["exp_tanh"]
    _, hv = MX.jvp(->(a) { MX.grad(g).call(a, y) }, [x], [v])
    assert_tree(c["out"], hv[0], "jvp of grad (Hessian-vector product)")

    c = cases("jvp_of_vjp").first
    x, cot, t = dec(c["inputs"])
    _, jv = MX.jvp(->(ct) { MX.vjp(->(a) { MX.sin(a) * a }, [x], [ct])[1][0] }, [cot], [t])
    assert_tree(c["out"], jv[0], "jvp of vjp")
  end

  def test_oracle_per_example_gradients
    c = cases("per_example_grads").first
    w, b, xs, ts = dec(c["inputs"])
    loss = ->(w_, b_, x, t) { MX.sum(MX.square(MX.matmul(x, w_) + b_ - t)) }
    pe = MX.vmap(MX.grad(loss, [0, 1]), in_axes: [nil, nil, 0, 0]).call(w, b, xs, ts)
    assert_tree(c["out"], pe, "vmap of grad")
  end

  # ---- grad and value_and_grad ----------------------------------------------------
  def test_trees_in_and_out
    params = { "w" => x3, :layers => [{ "b" => y3, "scale" => 2.0 }], "name" => "lin" }
    loss = ->(p) { MX.sum(p["w"] * p[:layers][0]["b"] * p[:layers][0]["scale"]) }
    g = MX.grad(loss).call(params)
    assert_equal %w[w layers name], g.keys.map(&:to_s)
    assert_equal [8.0, 10.0, 12.0], g["w"].to_a
    assert_equal [2.0, 4.0, 6.0], g[:layers][0]["b"].to_a
    assert_nil g[:layers][0]["scale"] # constants get no gradient
    assert_nil g["name"]
  end

  def test_argnums_forms
    f = ->(a, b, c) { MX.sum(a * b * b + c) }
    a = x3
    b = y3
    c = MX.array([1.0, 1.0, 1.0])
    assert_equal [16.0, 25.0, 36.0], MX.grad(f).call(a, b, c).to_a
    assert_equal [8.0, 20.0, 36.0], MX.grad(f, 1).call(a, b, c).to_a
    assert_equal [8.0, 20.0, 36.0], MX.grad(f, [1]).call(a, b, c).to_a # one argnum: no list
    ga, gb = MX.grad(f, argnums: [1, 0]).call(a, b, c) # sorted, as upstream
    assert_equal [16.0, 25.0, 36.0], ga.to_a
    assert_equal [8.0, 20.0, 36.0], gb.to_a
    assert_equal 3, MX.grad(f, [0, 1, 2]).call(a, b, c).size
    # A non-differentiated argument may be anything.
    assert_equal [2.0, 2.0, 2.0], MX.grad(->(x, k) { MX.sum(x * k) }).call(a, 2.0).to_a
  end

  def test_argnums_errors
    f = ->(a, b) { MX.sum(a * b) }
    assert_raises(ArgumentError) { MX.grad(f, -1) }
    assert_raises(ArgumentError) { MX.grad(f, [0, 0]) }
    assert_raises(ArgumentError) { MX.grad(f, []) }
    assert_raises(TypeError) { MX.grad(f, 0.5) }
    assert_raises(TypeError) { MX.grad(42) }
    e = assert_raises(ArgumentError) { MX.grad(f, 2).call(x3, y3) }
    assert_match(/argument index 2/, e.message)
    e = assert_raises(ArgumentError) { MX.grad(f, 1).call(x3, 2.0) }
    assert_match(/no MLX arrays/, e.message)
  end

  def test_argnames
    f = ->(a, z:, scale: 1.0) { MX.sum(a * z * scale) }
    pos, kw = MX.grad(f, argnames: "z").call(x3, z: y3, scale: 2.0)
    assert_nil pos
    assert_equal ["z"], kw.keys
    assert_equal [2.0, 4.0, 6.0], kw["z"].to_a
    pos, kw = MX.grad(f, 0, [:z]).call(x3, z: y3)
    assert_equal [4.0, 5.0, 6.0], pos.to_a
    assert_equal [1.0, 2.0, 3.0], kw["z"].to_a
    value, (pos, kw) = MX.value_and_grad(f, argnums: [0], argnames: ["z"]).call(x3, z: y3)
    assert_in_delta 32.0, value.item
    assert_equal [4.0, 5.0, 6.0], pos.to_a
    assert_equal [1.0, 2.0, 3.0], kw["z"].to_a
    e = assert_raises(ArgumentError) { MX.grad(f, argnames: "z").call(x3, scale: 1.0) }
    assert_match(/keyword argument 'z'/, e.message)
  end

  def test_aux_outputs
    f = ->(x) { [MX.sum(x * x), { "double" => x * 2, "count" => 7 }, x + 1] }
    (loss, aux, plus), g = MX.value_and_grad(f).call(x3)
    assert_in_delta 14.0, loss.item
    assert_equal [2.0, 4.0, 6.0], aux["double"].to_a
    assert_equal 7, aux["count"]
    assert_equal [2.0, 3.0, 4.0], plus.to_a
    assert_equal [2.0, 4.0, 6.0], g.to_a # only the loss is differentiated
    assert_equal [2.0, 4.0, 6.0], MX.grad(f).call(x3).to_a
  end

  def test_loss_errors
    assert_raises(ArgumentError) { MX.grad(->(x) { 3.0 }).call(x3) }
    assert_raises(ArgumentError) { MX.grad(->(x) { [] }).call(x3) }
    assert_raises(ArgumentError) { MX.value_and_grad(->(x) { [1.0, x] }).call(x3) }
    e = assert_raises(MLX::ArgumentError) { MX.grad(->(x) { x * 2 }).call(x3) }
    assert_match(/scalar/, e.message)
  end

  def test_stop_gradient
    f = ->(x) { MX.sum(x * MX.stop_gradient(x)) }
    assert_equal [1.0, 2.0, 3.0], MX.grad(f).call(x3).to_a
  end

  def test_grad_of_grad_of_grad
    f = ->(x) { MX.sum(x * x * x * x) } # x^4 -> 4x^3 -> 12x^2 -> 24x
    g3 = MX.grad(->(a) { MX.sum(MX.grad(->(b) { MX.sum(MX.grad(f).call(b)) }).call(a)) })
    assert_equal [24.0, 48.0, 72.0], g3.call(x3).to_a
  end

  def test_evaluating_inside_a_traced_function
    f = lambda do |x|
      y = x * x
      MX.eval(y)
      MX.sum(y * x)
    end
    assert_equal [3.0, 12.0, 27.0], MX.grad(f).call(x3).to_a
  end

  # ---- vjp / jvp ---------------------------------------------------------------------
  def test_vjp_jvp_forms
    outs, vjps = MX.vjp(->(a) { a * a }, x3, MX.array([1.0, 1.0, 1.0]))
    assert_equal [[1.0, 4.0, 9.0]], outs.map(&:to_a)
    assert_equal [[2.0, 4.0, 6.0]], vjps.map(&:to_a)
    outs, jvps = MX.jvp(->(a, b) { [a * b, { "s" => a + b }] }, [x3, y3], [MX.ones([3]), MX.zeros([3])])
    assert_equal [4.0, 10.0, 18.0], outs[0].to_a
    assert_equal [5.0, 7.0, 9.0], outs[1]["s"].to_a
    assert_equal [4.0, 5.0, 6.0], jvps[0].to_a
    assert_equal [1.0, 1.0, 1.0], jvps[1]["s"].to_a
    # Tree primals.
    _, vjps = MX.vjp(->(p) { p["a"] * p["b"] }, [{ "a" => x3, "b" => y3 }], [MX.ones([3])])
    assert_equal [4.0, 5.0, 6.0], vjps[0]["a"].to_a
    assert_equal [1.0, 2.0, 3.0], vjps[0]["b"].to_a
  end

  def test_vjp_jvp_errors
    assert_raises(MLX::ShapeError) { MX.vjp(->(a) { a * a }, [x3], [MX.ones([2])]) }
    assert_raises(MLX::ArgumentError) { MX.vjp(->(a) { a * a }, [x3], []) }
    assert_raises(MLX::ArgumentError) { MX.jvp(->(a) { a * a }, [x3], []) }
    assert_raises(TypeError) { MX.vjp(->(a) { a * a }, 3, [x3]) }
    e = assert_raises(TypeError) { MX.vjp(->(a) { "no" }, [x3], [x3]) }
    assert_match(/must return an MLX::Core::Array/, e.message)
    assert_raises(TypeError) { MX.vmap(->(a) { [1, 2] }).call(x3) }
  end

  # ---- vmap ------------------------------------------------------------------------------
  def test_vmap_forms
    m = MX.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    fn = MX.vmap(->(r) { MX.sum(r) })
    assert_kind_of MX::Function, fn
    assert_equal [3.0, 7.0, 11.0], fn.call(m).to_a
    assert_equal [3.0, 7.0, 11.0], fn[m].to_a
    assert_equal [9.0, 12.0], MX.vmap(->(c) { MX.sum(c) }, 1).call(m).to_a
    assert_equal [3.0, 7.0, 11.0], MX.vmap(->(r) { MX.sum(r) }, nil, nil).call(m).to_a # nil: axis 0
    # Hash input with a Hash of axes; a constant rides along.
    out = MX.vmap(->(d, k) { d["x"] * d["s"] * k }, in_axes: [{ "x" => 0, "s" => nil }, nil])
            .call({ "x" => m, "s" => MX.array([10.0, 100.0]) }, 2)
    assert_equal [[20.0, 400.0], [60.0, 800.0], [100.0, 1200.0]], out.to_a
    # Tree outputs with a tree of out axes.
    out = MX.vmap(->(r) { { "twice" => r * 2, "pair" => [r, MX.sum(r)] } }, 0, { "twice" => 1, "pair" => [0, 0] })
            .call(m)
    assert_equal [[2.0, 6.0, 10.0], [4.0, 8.0, 12.0]], out["twice"].to_a
    assert_equal m.to_a, out["pair"][0].to_a
    assert_equal [3.0, 7.0, 11.0], out["pair"][1].to_a
    # An output that does not depend on the mapped input is broadcast.
    out = MX.vmap(->(r, c) { [r, c] }, [0, nil]).call(m, MX.array(7.0))
    assert_equal [7.0, 7.0, 7.0], out[1].to_a
  end

  def test_vmap_errors
    m = MX.ones([3, 2])
    assert_raises(MLX::ArgumentError) { MX.vmap(->(r) { r }, 2).call(m) }
    assert_raises(MLX::ShapeError) { MX.vmap(->(a, b) { a + b }).call(m, MX.ones([2, 2])) }
    assert_raises(MLX::ArgumentError) { MX.vmap(->(r) { r }, nil, 3).call(m) }
    assert_raises(ArgumentError) { MX.vmap(->(r) { r }, 0, [nil]).call(m) }
    assert_raises(ArgumentError) { MX.vmap(->(a, b) { a }, [0, 0, 0]).call(m, m) }
    assert_raises(MLX::ArgumentError) { MX.vmap(->(a) { a }, [nil]).call(m) }
  end

  # ---- checkpoint ------------------------------------------------------------------------
  def test_checkpoint_gives_the_same_gradients
    calls = 0
    block = lambda do |x, w:|
      calls += 1
      MX.tanh(MX.matmul(x, w)) * 2.0
    end
    x = MX.array([[0.1, 0.2], [0.3, -0.4]])
    w = MX.array([[1.0, -1.0], [0.5, 2.0]])
    plain = ->(x_, w_) { MX.sum(block.call(x_, w: w_)) }
    ck = MX.checkpoint(block)
    ckd = ->(x_, w_) { MX.sum(ck.call(x_, w: w_)) }
    g1 = MX.grad(plain, [0, 1]).call(x, w)
    calls = 0
    g2 = MX.grad(ckd, [0, 1]).call(x, w)
    assert_equal 2, calls # forward, then recomputed in the backward pass
    g1.zip(g2).each do |a, b|
      a.to_a.flatten.zip(b.to_a.flatten).each { |p, q| assert_in_delta p, q, 1e-6 }
    end
    # Trees out, constants kept.
    out = MX.checkpoint(->(a) { { "y" => a * 2, "tag" => :t } }).call(x3)
    assert_equal [2.0, 4.0, 6.0], out["y"].to_a
    assert_equal :t, out["tag"]
  end

  # ---- custom_function -----------------------------------------------------------------
  def test_custom_vjp_is_used_by_grad
    f = MX.custom_function { |x, y| MX.sin(x) * y }
    refute f.custom_vjp?
    seen = nil
    rule = f.vjp do |primals, cotangents, outputs|
      seen = [primals.size, cotangents.size, outputs.size]
      x, y = primals
      [cotangents[0] * 100, cotangents[0] * MX.sin(x) * 0 + y * 0]
    end
    assert f.custom_vjp?
    assert_kind_of Proc, rule
    gx, gy = MX.grad(->(a, b) { MX.sum(f.call(a, b)) }, [0, 1]).call(x3, y3)
    assert_equal [2, 1, 1], seen
    assert_equal [100.0, 100.0, 100.0], gx.to_a
    assert_equal [0.0, 0.0, 0.0], gy.to_a
    # Forward values are fun's.
    assert_in_delta Math.sin(1.0) * 4, f.call(x3, y3).to_a[0], 1e-6
    assert_in_delta Math.sin(1.0) * 4, f[x3, y3].to_a[0], 1e-6
  end

  def test_custom_jvp_and_vmap_and_fallbacks
    calls = Hash.new(0)
    f = MX.custom_function(->(x) { x * x })
    f.jvp(->(primals, tangents) { calls[:jvp] += 1; tangents[0] * 7 })
    # vjp falls back to differentiating fun: 2x.
    assert_equal [2.0, 4.0, 6.0], MX.grad(->(a) { MX.sum(f.call(a)) }).call(x3).to_a
    _, jv = MX.jvp(f, [x3], [MX.ones([3])])
    assert_equal [7.0, 7.0, 7.0], jv[0].to_a
    assert_equal 1, calls[:jvp]
    # vmap falls back to mapping fun.
    m = MX.array([[1.0, 2.0], [3.0, 4.0]])
    assert_equal [[1.0, 4.0], [9.0, 16.0]], MX.vmap(f, 1).call(m).T.to_a

    f.vmap do |inputs, axes|
      calls[:vmap] += 1
      assert_equal [1], axes
      [inputs[0] * 100, 1]
    end
    assert f.custom_vmap?
    out = MX.vmap(f, 1).call(m)
    assert_equal 1, calls[:vmap]
    assert_equal [[100.0, 300.0], [200.0, 400.0]], out.to_a # axis 1 moved to 0
    out = MX.vmap(f, 1, 1).call(m)
    assert_equal [[100.0, 200.0], [300.0, 400.0]], out.to_a
  end

  def test_custom_function_trees_kwargs_and_direct_calls
    f = MX.custom_function { |p, scale: 1.0| { "out" => p["a"] * p["b"] * scale } }
    got_kwargs = nil
    f.vjp do |primals, cotangents, outputs, **kw|
      got_kwargs = kw
      p = primals[0]
      c = cotangents["out"] # fun's output structure
      assert_kind_of MX::Array, outputs["out"]
      [{ "a" => c * p["b"], "b" => nil }]
    end
    g = MX.grad(->(p) { MX.sum(f.call(p, scale: 3.0)["out"]) }).call({ "a" => x3, "b" => y3 })
    assert_equal({ scale: 3.0 }, got_kwargs)
    assert_equal [4.0, 5.0, 6.0], g["a"].to_a
    assert_equal [0.0, 0.0, 0.0], g["b"].to_a # nil from the rule: zeros
    assert_equal [[4.0, 10.0, 18.0]], [f.call({ "a" => x3, "b" => y3 })["out"].to_a]
    assert_equal :called, MX.custom_function(->(a) { a }).tap { |c| c.vjp { :called } }.call_custom_vjp([], [], [])
    assert_raises(ArgumentError) { MX.custom_function(->(a) { a }).call_custom_jvp([], []) }
    assert_raises(ArgumentError) { MX.custom_function }
    assert_raises(ArgumentError) { MX.custom_function(->(a) { a }).vjp }
    assert_raises(TypeError) { MX.custom_function(3) }
  end

  def test_custom_vjp_grad_of_grad
    # cube with its true vjp from public ops: second derivative 6x.
    cube = MX.custom_function { |x| x * x * x }
    cube.vjp { |(x), (c), _| c * 3 * x * x }
    d1 = ->(a) { MX.sum(MX.grad(->(b) { MX.sum(cube.call(b)) }).call(a)) }
    assert_equal [6.0, 12.0, 18.0], MX.grad(d1).call(x3).to_a
  end

  def test_custom_rule_errors
    f = MX.custom_function { |x| x * 2 }
    f.vjp { |_, _, _| [MX.ones([2])] }
    assert_raises(MLX::ShapeError) { MX.grad(->(a) { MX.sum(f.call(a)) }).call(x3) }
    f.vjp { |_, _, _| [1.5] }
    assert_raises(TypeError) { MX.grad(->(a) { MX.sum(f.call(a)) }).call(x3) }
    f.vjp { |_, _, _| [x3, x3] }
    assert_raises(ArgumentError) { MX.grad(->(a) { MX.sum(f.call(a)) }).call(x3) }
  end

  # ---- exceptions inside traced functions --------------------------------------
  class Boom < StandardError
    def initialize(msg = "boom from a traced function")
      super
    end
  end

  def raising_line = __LINE__ + 1
  def raise_boom = raise(Boom)

  def assert_boom(&block)
    e = assert_raises(Boom, &block)
    assert_equal "boom from a traced function", e.message
    assert(e.backtrace.any? { |l| l.include?("#{__FILE__}:#{raising_line}") }, "original backtrace kept")
    # Nothing is left pending: the next transform works.
    assert_equal [2.0, 4.0, 6.0], MX.grad(->(x) { MX.sum(x * x) }).call(x3).to_a
  end

  def test_exceptions_reach_the_caller
    bad = ->(*) { raise_boom }
    assert_boom { MX.grad(bad).call(x3) }
    assert_boom { MX.value_and_grad(bad).call(x3) }
    assert_boom { MX.vjp(bad, [x3], [x3]) }
    assert_boom { MX.jvp(bad, [x3], [x3]) }
    assert_boom { MX.vmap(bad).call(x3) }
    assert_boom { MX.checkpoint(bad).call(x3) }
    assert_boom { MX.grad(->(x) { MX.sum(MX.grad(bad).call(x)) }).call(x3) } # nested
    f = MX.custom_function { |x| x * 2 }
    f.vjp { |*| raise_boom }
    assert_boom { MX.grad(->(x) { MX.sum(f.call(x)) }).call(x3) }
    f.jvp { |*| raise_boom }
    assert_boom { MX.jvp(f, [x3], [x3]) }
    f.vmap { |*| raise_boom }
    assert_boom { MX.vmap(f).call(MX.ones([2, 3])) }
  end

  def test_engine_and_ruby_errors_keep_their_class
    e = assert_raises(MLX::ShapeError) { MX.grad(->(x) { MX.sum(x + MX.ones([2])) }).call(x3) }
    assert_match(/broadcast|shape/i, e.message)
    assert_raises(ZeroDivisionError) { MX.grad(->(x) { 1 / 0 }).call(x3) }
    assert_raises(NoMethodError) { MX.vmap(->(x) { x.no_such_method }).call(MX.ones([2, 2])) }
  end

  def return_from_a_traced_proc
    MX.vjp(proc { |_| return :returned }, [x3], [x3])
    :not_reached
  end

  def test_throw_and_return_out_of_a_traced_function
    r = catch(:done) { MX.grad(->(_) { throw :done, 42 }).call(x3) }
    assert_equal 42, r
    assert_equal :returned, return_from_a_traced_proc
    assert_equal [2.0, 4.0, 6.0], MX.grad(->(x) { MX.sum(x * x) }).call(x3).to_a
  end

  def test_native_aliases_and_procs
    sq = ->(x) { MX.sum(x * x) }
    assert_equal [2.0, 4.0, 6.0], MX.native_grad(sq).call(x3).to_a
    assert_in_delta 14.0, MX.native_value_and_grad(sq).call(x3)[0].item
    assert_equal [2.0, 4.0, 6.0], MX.native_vjp(->(x) { x * x }, [x3], [MX.ones([3])])[1][0].to_a
    assert_equal [2.0, 4.0, 6.0], MX.native_jvp(->(x) { x * x }, [x3], [MX.ones([3])])[1][0].to_a
    assert_equal [2.0, 4.0, 6.0], MX.native_grad(MX.native_checkpoint(sq)).call(x3).to_a
    rows = [MX.array([[1.0, 2.0]]), MX.array([[3.0, 4.0]])]
    assert_equal [[3.0], [7.0]], rows.map(&MX.native_vmap(->(r) { MX.sum(r) })).map(&:to_a)
    cf = MX.custom_function { |x| x + 1 }
    assert_equal [[2.0, 3.0, 4.0]], [x3].map(&cf).map(&:to_a)
  end

  # ---- depends, eval of trees ---------------------------------------------------
  def test_depends
    a = x3
    d = y3 * 2
    out = MX.depends(a, d)
    assert_kind_of MX::Array, out
    assert_equal [1.0, 2.0, 3.0], out.to_a
    assert d.evaluated?
    outs = MX.depends([a, y3], [d])
    assert_equal 2, outs.size
    g = MX.grad(->(x, dep) { MX.sum(MX.depends(x, dep) * 3) }, [0, 1]).call(a, y3)
    assert_equal [3.0, 3.0, 3.0], g[0].to_a
    assert_equal [0.0, 0.0, 0.0], g[1].to_a
  end

  def test_eval_of_gradient_trees
    g = MX.grad(->(p) { MX.sum(p["w"] * p["w"]) + MX.sum(p["b"][0]) }).call({ "w" => x3, "b" => [y3] })
    MX.eval(g)
    assert g["w"].evaluated?
    assert g["b"][0].evaluated?
    MX.async_eval(g)
  end
end
