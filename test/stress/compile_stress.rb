# frozen_string_literal: true

# compile under GC.stress (required by gc_stress_run.rb): a collection at
# every allocation while compiled functions trace Ruby callables, replay,
# write captured state back, raise, and get collected with their cycle
# (callable -> Compiled -> native wrapper -> callable).
require "test_helper"

class CompileGCStressTest < Minitest::Test
  class Boom < StandardError; end

  def stressed
    GC.stress = true
    yield
  ensure
    GC.stress = false
  end

  def test_trees_constants_and_replay
    stressed do
      c = MX.compile(->(p, k, scale:) { { "y" => [p["w"] * k + scale, 3] } })
      p = { "w" => MX.array([1.0, 2.0]) }
      2.times { assert_equal [4.0, 7.0], c.call(p, 3, scale: MX.array(1.0))["y"][0].to_a }
      assert_equal [3.0, 5.0], c.call(p, 2, scale: MX.array(1.0))["y"][0].to_a
      s = MX.compile(->(x) { MX.exp(x) * 0 + x }, shapeless: true)
      assert_equal [1.0, 2.0, 3.0], s.call(MX.array([1.0, 2.0, 3.0])).to_a
    end
  end

  def test_state_random_grad_and_errors
    stressed do
      state = { "w" => MX.array([1.0]), "n" => [MX.array(0)] }
      step = MX.compile(lambda { |g|
        state["w"] = state["w"] - g
        state["n"][0] = state["n"][0] + 1
        state["w"] * 2
      }, inputs: state, outputs: state)
      2.times { step.call(MX.array([0.5])) }
      assert_equal [0.0], state["w"].to_a
      assert_equal 2, state["n"][0].item
      MX.seed(3)
      r = MX.compile(->(x) { x + MX.uniform([2]) })
      a = r.call(MX.zeros([2])).to_a
      MX.seed(3)
      assert_equal a, MX.uniform([2]).to_a
      f = ->(x) { MX.sum(x * x * x) }
      assert_equal [3.0, 12.0], MX.grad(MX.compile(f)).call(MX.array([1.0, 2.0])).to_a
      boom = MX.compile(lambda { |x|
        state["w"] = x
        raise Boom, "in compile"
      }, inputs: state, outputs: state)
      e = assert_raises(Boom) { boom.call(MX.array([9.0])) }
      assert_equal "in compile", e.message
      assert_equal [0.0], state["w"].to_a
      assert_equal 5, catch(:t) { MX.compile(->(_) { throw :t, 5 }).call(MX.ones([1])) }
    end
  end

  def test_compiled_functions_are_collected
    refs = ObjectSpace::WeakMap.new
    stressed do
      3.times do |i|
        c = MX.compile(->(x) { x + i })
        c.call(MX.array([1.0]))
        refs[c] = true
      end
    end
    GC.start
    # Conservative stack scanning may keep one alive; not all three.
    assert_operator refs.keys.size, :<, 3
  end
end
