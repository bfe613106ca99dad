# frozen_string_literal: true

require "test_helper"

# Every optimizer, 10 steps on fixed gradients, against Python MLX
# (test/fixtures/optimizers.json); schedules; clip_grad_norm; state.
class OptimizersTest < Minitest::Test
  FIX = MLXTestHelper.fixture("optimizers")
  O = MLX::Optimizers
  DATA = FIX["cases"].find { |c| c["op"] == "_data" }
  SCHEDULES = {
    "exponential_decay" => -> { O.exponential_decay(0.1, 0.9) },
    "cosine_decay" => -> { O.cosine_decay(0.01, 6, 0.001) },
    "join" => -> { O.join_schedules([O.linear_schedule(0.0, 0.1, 3), O.cosine_decay(0.1, 5)], [3]) },
    "linear" => -> { O.linear_schedule(0.001, 0.01, 4) },
    "step" => -> { O.step_decay(0.1, 0.5, 3) }
  }.freeze

  def tree(flat)
    MLX::Utils.tree_unflatten(flat.map { |k, v| [k, decode_arg(FIX, v)] })
  end

  def test_ten_steps_match_python
    FIX["cases"].reject { |c| c["op"] == "_data" }.each_with_index do |c, i|
      kw = c["kwargs"].to_h { |k, v| [k.to_sym, v] }
      kw[:learning_rate] = SCHEDULES.fetch(kw[:learning_rate]).call if kw[:learning_rate].is_a?(String)
      opt = O.const_get(c["op"]).new(**kw)
      params = tree(DATA["params"])
      DATA["grads"].each { |g| params = opt.apply_gradients(tree(g), params) }
      label = "#{c['op']} #{i} #{c['kwargs']}"
      MLX::Utils.tree_flatten(params).each do |k, v|
        assert_array_matches(resolve(FIX, c["out"][k]), v, "#{label} #{k}", tol: [2e-5, 2e-6])
      end
      assert_equal 10, opt.step.item, label
      assert_array_matches(resolve(FIX, c["learning_rate"]), opt.learning_rate, label) if c["learning_rate"]
    end
  end

  def test_clip_grad_norm
    clipped, norm = O.clip_grad_norm(tree(DATA["grads"][0]), 1.5)
    assert_array_matches(resolve(FIX, DATA["clip"]["norm"]), norm, "norm")
    MLX::Utils.tree_flatten(clipped).each do |k, v|
      assert_array_matches(resolve(FIX, DATA["clip"]["grads"][k]), v, k)
    end
    assert_raises(ArgumentError) { O.clip_grad_norm({}, -1) }
  end

  def test_state_init_and_update_of_a_model
    model = MLX::NN::Linear.new(3, 2)
    opt = O::SGD.new(learning_rate: 0.1, momentum: 0.9)
    opt.init(model.trainable_parameters)
    assert_equal %w[step learning_rate weight bias], opt.state.keys
    assert_equal [2, 3], opt.state["weight"]["v"].shape
    before = model.weight
    grads = MLX::Utils.tree_map(->(p) { MX.ones_like(p) }, model.trainable_parameters)
    assert_same model, opt.update(model, grads)
    assert MX.allclose(model.weight, before - 0.1)
    opt.learning_rate = 0.5
    assert_equal 0.5, opt.learning_rate.item
    fresh = O::SGD.new(learning_rate: 0.1, momentum: 0.9)
    fresh.state = opt.state
    assert_same opt.state, fresh.state
  end

  def test_invalid_hyper_parameters
    assert_raises(ArgumentError) { O::SGD.new(nesterov: true) }
    assert_raises(ArgumentError) { O::RMSprop.new(alpha: -1.0) }
    assert_raises(ArgumentError) { O::Adagrad.new(eps: 0.0) }
    assert_raises(ArgumentError) { O::AdaDelta.new(rho: -0.1) }
    assert_raises(ArgumentError) { O::Adam.new(betas: [1.0, 0.9]) }
    assert_raises(ArgumentError) { O::Lion.new(betas: [0.9, -0.1]) }
    assert_raises(ArgumentError) { O.step_decay(0.1, 0.5, 0) }
    assert_raises(ArgumentError) { O.join_schedules([O.exponential_decay(0.1, 0.9)], [3]) }
  end

  def test_multi_optimizer
    params = { "w" => MX.ones([2]), "b" => MX.ones([2]) }
    grads = { "w" => MX.ones([2]), "b" => MX.ones([2]) }
    multi = O::MultiOptimizer.new([O::SGD.new(learning_rate: 0.5), O::SGD.new(learning_rate: 0.1)],
                                  filters: [->(path, _g) { path == "w" }])
    out = multi.apply_gradients(grads, params)
    assert_equal [0.5, 0.5], out["w"].to_a
    assert_equal [0.9, 0.9], out["b"].to_a.map { |x| x.round(6) }
    assert_equal 2, multi.state["states"].size
    multi.learning_rate = 0.2
    assert_in_delta 0.2, multi.learning_rate.item, 1e-7
    assert_raises(ArgumentError) { O::MultiOptimizer.new([O::SGD.new], filters: [->(*) { true }]) }
    assert_raises(ArgumentError) { multi.state = { "states" => [] } }
  end
end
