# frozen_string_literal: true

# Transforms under GC.stress (required by gc_stress_run.rb): a collection at
# every allocation while the engine holds Ruby callables in closures, the
# trampolines wrap arrays, and exceptions cross the engine.
require "test_helper"

class TransformsGCStressTest < Minitest::Test
  class Boom < StandardError; end

  def stressed
    GC.stress = true
    yield
  ensure
    GC.stress = false
  end

  def test_grad_trees_argnames_and_aux
    stressed do
      x = MX.array([1.0, 2.0])
      loss = ->(p, k:) { [MX.sum(p["w"] * p["w"] * k), { "aux" => p["w"] + 1 }] }
      (l, aux), (pos, kw) = MX.value_and_grad(loss, 0, ["k"]).call({ "w" => x }, k: MX.array(3.0))
      assert_equal 15.0, l.item
      assert_equal [2.0, 3.0], aux["aux"].to_a
      assert_equal [6.0, 12.0], pos["w"].to_a
      assert_equal 5.0, kw["k"].item
      assert_equal [6.0, 12.0], MX.grad(->(a) { MX.sum(MX.grad(->(b) { MX.sum(b * b * b) }).call(a)) }).call(x).to_a
    end
  end

  def test_vjp_jvp_vmap
    stressed do
      x = MX.array([1.0, 2.0])
      outs, vjps = MX.vjp(->(a) { [a * a, { "s" => MX.sum(a) }] }, [x], [x, { "s" => MX.array(1.0) }])
      assert_equal [1.0, 4.0], outs[0].to_a
      assert_equal [3.0, 9.0], vjps[0].to_a # 2a * a + 1
      _, jvps = MX.jvp(->(a) { a * a }, [x], [x])
      assert_equal [2.0, 8.0], jvps[0].to_a
      m = MX.array([[1.0, 2.0], [3.0, 4.0]])
      out = MX.vmap(->(r) { { "t" => r * 2 } }, 1, { "t" => 1 }).call(m)
      assert_equal [[2.0, 4.0], [6.0, 8.0]], out["t"].to_a
    end
  end

  def test_custom_function_rules_outlive_their_wrapper
    stressed do
      x = MX.array([1.0, 2.0])
      loss = lambda do |a|
        # A CustomFunction that nothing references once called: the op
        # it recorded keeps its rules until the backward pass.
        y = MX.custom_function { |v| v * v }.tap { |c| c.vjp { |_, (ct), _| ct * 10 } }.call(a)
        GC.start
        MX.sum(y)
      end
      assert_equal [10.0, 10.0], MX.grad(loss).call(x).to_a
      f = MX.custom_function { |v| v * 2 }
      f.jvp { |_, (t)| t * 7 }
      f.vmap { |(v), _| [v * 3, 0] }
      assert_equal [7.0, 7.0], MX.jvp(f, [x], [MX.ones([2])])[1][0].to_a
      assert_equal [[3.0, 6.0]], MX.vmap(f).call(MX.array([[1.0, 2.0]])).to_a
      assert_equal [2.0, 4.0], MX.grad(MX.checkpoint(->(a) { MX.sum(a * a) })).call(x).to_a
    end
  end

  def test_exceptions_and_jumps
    stressed do
      x = MX.array([1.0, 2.0])
      e = assert_raises(Boom) { MX.grad(->(_) { raise Boom, "inner" }).call(x) }
      assert_equal "inner", e.message
      f = MX.custom_function { |v| v * 2 }
      f.vjp { |*| raise Boom, "rule" }
      e = assert_raises(Boom) { MX.grad(->(a) { MX.sum(f.call(a)) }).call(x) }
      assert_equal "rule", e.message
      assert_equal 7, catch(:t) { MX.vmap(->(_) { throw :t, 7 }).call(MX.ones([2, 2])) }
      assert_raises(MLX::ShapeError) { MX.grad(->(a) { MX.sum(a + MX.ones([3])) }).call(x) }
    end
  end
end
