# frozen_string_literal: true

require "test_helper"
require "tmpdir"

# Optimizer#save_state / #load_state: training resumed from saved weights
# and optimizer state continues bit for bit as the original run does.
class OptimizerStateFileTest < Minitest::Test
  O = MLX::Optimizers
  NN = MLX::NN

  def setup
    @dir = Dir.mktmpdir("mlx-opt-state")
    MX.random_seed(7)
    @x = MX.normal([8, 4])
    @y = MX.normal([8, 2])
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def path(name) = File.join(@dir, name)

  def make_model
    NN::Sequential.new(NN::Linear.new(4, 6), NN::ReLU.new, NN::Linear.new(6, 2))
  end

  def train(model, opt, steps)
    loss_and_grad = NN.value_and_grad(model, ->(x, y) { NN.mse_loss(model.call(x), y) })
    steps.times do
      _, grads = loss_and_grad.call(@x, @y)
      opt.update(model, grads)
      MX.eval(model.parameters, opt.state)
    end
  end

  def flat_values(tree)
    MLX::Utils.tree_flatten(tree).to_h { |k, v| [k, v.is_a?(MX::Array) ? [v.dtype.to_s, v.shape, v.to_flat_a] : v] }
  end

  # Trains 3 steps, saves, trains 3 more; a fresh model and optimizer
  # loaded from the files and trained 3 steps must end identical.
  def assert_resumes_exactly(ext, &make_opt)
    model = make_model
    opt = make_opt.call
    train(model, opt, 3)
    model.save_weights(path("w#{ext}"))
    opt.save_state(path("o#{ext}"))
    train(model, opt, 3)

    MX.random_seed(99)
    fresh = make_model
    fresh_opt = make_opt.call
    fresh.load_weights(path("w#{ext}"))
    assert_same fresh_opt, fresh_opt.load_state(path("o#{ext}"))
    train(fresh, fresh_opt, 3)

    assert_equal flat_values(model.parameters), flat_values(fresh.parameters)
    assert_equal flat_values(opt.state), flat_values(fresh_opt.state)
  end

  def test_adam_with_schedule_resumes_exactly_safetensors
    assert_resumes_exactly(".safetensors") do
      O::Adam.new(learning_rate: O.cosine_decay(0.05, 10, 0.001), bias_correction: true)
    end
  end

  def test_adamw_resumes_exactly_npz
    assert_resumes_exactly(".npz") { O::AdamW.new(learning_rate: 0.01) }
  end

  def test_sgd_momentum_and_adafactor_resume_exactly
    assert_resumes_exactly(".safetensors") { O::SGD.new(learning_rate: 0.1, momentum: 0.9, nesterov: true) }
    assert_resumes_exactly(".safetensors") { O::Adafactor.new(beta_1: 0.9) }
  end

  def test_multi_optimizer_resumes_exactly
    assert_resumes_exactly(".safetensors") do
      O::MultiOptimizer.new([O::SGD.new(learning_rate: 0.05, momentum: 0.5), O::Adam.new(learning_rate: 0.01)],
                            filters: [->(path, _g) { path.end_with?("bias") }])
    end
  end

  def test_file_keys_are_tree_flatten_keys
    model = make_model
    opt = O::Adam.new(learning_rate: 0.01)
    train(model, opt, 2)
    opt.save_state(path("o.safetensors"))
    loaded = MX.load(path("o.safetensors"))
    assert_equal MLX::Utils.tree_flatten(opt.state).map(&:first).sort, loaded.keys.sort
    assert_includes loaded.keys, "layers.0.weight.m"
    assert_equal 2, loaded["step"].item
    assert_equal MX.uint64, loaded["step"].dtype
    # The saved step and slots are a snapshot: training on does not change them.
    train(model, opt, 1)
    assert_equal 2, MX.load(path("o.safetensors"))["step"].item
  end

  def test_multi_optimizer_file_layout
    opt = O::MultiOptimizer.new([O::SGD.new(learning_rate: 0.1), O::Adam.new], filters: [->(k, _g) { k.end_with?("bias") }])
    train(make_model, opt, 1)
    opt.save_state(path("m.npz"))
    keys = MX.load(path("m.npz")).keys
    assert_includes keys, "states.0.step"
    assert_includes keys, "states.1.layers.2.weight.v"
    refute(keys.any? { |k| k.start_with?("states.0.layers") && k.end_with?("weight.v") })
  end

  def test_fresh_optimizer_takes_any_matching_file
    model = make_model
    opt = O::Adam.new(learning_rate: 0.01)
    train(model, opt, 2)
    opt.save_state(path("o.safetensors"))
    other = O::Adam.new(learning_rate: 0.5).load_state(path("o.safetensors"))
    assert_equal 2, other.step.item
    assert_in_delta 0.01, other.learning_rate.item, 1e-9
    assert_equal [6, 4], other.state["layers"][0]["weight"]["m"].shape
  end

  def test_mismatched_files_raise_and_keep_the_state
    model = make_model
    opt = O::Adam.new(learning_rate: 0.01)
    train(model, opt, 1)
    opt.save_state(path("adam.safetensors"))

    wide = NN::Sequential.new(NN::Linear.new(4, 7), NN::ReLU.new, NN::Linear.new(7, 2))
    wide_opt = O::Adam.new(learning_rate: 0.01)
    loss_and_grad = NN.value_and_grad(wide, ->(x, y) { NN.mse_loss(wide.call(x), y) })
    wide_opt.update(wide, loss_and_grad.call(@x, @y)[1])
    before = flat_values(wide_opt.state)
    err = assert_raises(ArgumentError) { wide_opt.load_state(path("adam.safetensors")) }
    assert_match(/layers\.0\.weight\.m.*shape/, err.message)
    assert_equal before, flat_values(wide_opt.state)

    sgd = O::SGD.new(learning_rate: 0.1, momentum: 0.9)
    train(make_model, sgd, 1)
    err = assert_raises(ArgumentError) { sgd.load_state(path("adam.safetensors")) }
    assert_match(/lacks .*weight\.v|holds .*weight\.m/, err.message)

    # A file for fewer parameters than the optimizer holds slots for.
    small = NN::Linear.new(4, 2)
    small_opt = O::Adam.new(learning_rate: 0.01)
    small_opt.update(small, NN.value_and_grad(small, ->(x, y) { NN.mse_loss(small.call(x), y) }).call(@x, @y)[1])
    small_opt.save_state(path("small.npz"))
    err = assert_raises(ArgumentError) { opt.load_state(path("small.npz")) }
    assert_match(/lacks/, err.message)

    # strict: false takes the file as it is.
    assert_equal 1, sgd.load_state(path("adam.safetensors"), strict: false).step.item
  end

  def test_bad_paths_and_values
    opt = O::SGD.new
    assert_raises(ArgumentError) { opt.save_state(path("o.bin")) }
    assert_raises(ArgumentError) { opt.load_state(path("o.bin")) }
    assert_raises(ArgumentError) { opt.load_state(path("missing.safetensors")) }
    opt.state["note"] = "text"
    assert_raises(TypeError) { opt.save_state(path("o.safetensors")) }
    refute File.exist?(path("o.safetensors"))
    multi = O::MultiOptimizer.new([O::SGD.new, O::SGD.new, O::SGD.new], filters: [->(*) { false }] * 2)
    O::SGD.new.save_state(path("one.safetensors"))
    assert_raises(ArgumentError) { multi.load_state(path("one.safetensors"), strict: false) }
  end
end
