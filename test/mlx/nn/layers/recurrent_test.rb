# frozen_string_literal: true

require "test_helper"

# NN::RNN with its default tanh records its time loop from C
# (mlx_rnn_tanh_steps); the same layer with the same tanh given as a
# Ruby lambda runs the Ruby loop. Both record the same ops, so values and
# gradients agree bit for bit.
class RecurrentTest < Minitest::Test
  def layers
    MX.random_seed(11)
    native = MLX::NN::RNN.new(5, 7)
    ruby = MLX::NN::RNN.new(5, 7, nonlinearity: ->(v) { MX.tanh(v) })
    ruby.update(native.parameters)
    [native, ruby]
  end

  def test_default_tanh_matches_the_ruby_loop
    native, ruby = layers
    x = MX.random_uniform([2, 6, 5], -1.0, 1.0)
    h0 = MX.random_uniform([2, 7], -1.0, 1.0)
    assert_equal ruby.call(x).to_a, native.call(x).to_a
    assert_equal ruby.call(x, h0).to_a, native.call(x, h0).to_a
    x1 = MX.random_uniform([6, 5], -1.0, 1.0)
    assert_equal [6, 7], native.call(x1).shape
    assert_equal ruby.call(x1).to_a, native.call(x1).to_a
  end

  def test_gradients_match_the_ruby_loop
    native, ruby = layers
    x = MX.random_uniform([3, 4, 5], -1.0, 1.0)
    grads = [native, ruby].map do |layer|
      MLX::NN.value_and_grad(layer, ->(v) { MX.sum(MX.square(layer.call(v))) }).call(x)
    end
    assert_equal grads[1][0].item, grads[0][0].item
    %w[Wxh Whh bias].each { |k| assert_equal grads[1][1][k].to_a, grads[0][1][k].to_a, k }
    gx = [native, ruby].map { |layer| MX.grad(->(v) { MX.sum(layer.call(v)) }).call(x) }
    assert_equal gx[1].to_a, gx[0].to_a
  end

  def test_input_without_a_time_axis_is_an_error
    native, = layers
    err = assert_raises(MLX::Error) { native.call(MX.ones([5])) }
    assert_match(/\[rnn\]/, err.message)
    assert_raises(MLX::Error) { native.call(MX.ones([2, 0, 5])) }
  end
end
