# frozen_string_literal: true

require "test_helper"

# Activation functions and layers against Python MLX (test/fixtures/nn.json).
class ActivationsTest < Minitest::Test
  FIX = MLXTestHelper.fixture("nn")
  NN = MLX::NN

  FIX["cases"].reject { |c| c["op"].start_with?("_", "loss_") }.group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kwargs = c["kwargs"].to_h { |k, v| [k.to_sym, decode_arg(FIX, v)] }
        assert_case(FIX, c, "#{op} #{i} #{c['kwargs'].keys}") { NN.public_send(op, *args, **kwargs) }
      end
    end
  end

  def test_layers_match_functions
    x = MX.array([[-2.0, -0.5, 0.0, 0.5, 3.0, 7.0]])
    {
      NN::ReLU.new => NN.relu(x), NN::ReLU6.new => NN.relu6(x), NN::Sigmoid.new => NN.sigmoid(x),
      NN::SiLU.new => NN.silu(x), NN::Mish.new => NN.mish(x), NN::GELU.new => NN.gelu(x),
      NN::GELU.new("tanh") => NN.gelu_approx(x), NN::GELU.new("fast") => NN.gelu_fast_approx(x),
      NN::LeakyReLU.new(0.3) => NN.leaky_relu(x, negative_slope: 0.3), NN::ELU.new(2.0) => NN.elu(x, alpha: 2.0),
      NN::CELU.new(0.5) => NN.celu(x, alpha: 0.5), NN::Softshrink.new(1.0) => NN.softshrink(x, lambd: 1.0),
      NN::Step.new(0.2) => NN.step(x, threshold: 0.2), NN::Softmax.new => NN.softmax(x),
      NN::LogSoftmax.new => NN.log_softmax(x), NN::Softmin.new => NN.softmin(x),
      NN::HardTanh.new(min_val: -3.0) => NN.hard_tanh(x, min_val: -3.0), NN::HardShrink.new => NN.hard_shrink(x),
      NN::GLU.new => NN.glu(x), NN::SELU.new => NN.selu(x), NN::Hardswish.new => NN.hardswish(x),
      NN::Softplus.new => NN.softplus(x), NN::Softsign.new => NN.softsign(x), NN::LogSigmoid.new => NN.log_sigmoid(x),
      NN::Tanh.new => NN.tanh(x), NN::ReLU2.new => NN.relu2(x)
    }.each do |layer, want|
      assert MX.array_equal(layer.call(x), want), layer.class.name
    end
    prelu = NN::PReLU.new
    assert_equal [0.25], prelu.weight.to_a
    assert_equal [[-0.5, -0.125, 0.0, 0.5, 3.0, 7.0]], prelu.call(x).to_a
    assert_raises(ArgumentError) { NN::GELU.new("exact") }
    assert_raises(ArgumentError) { NN::Softmax.new(dim: 1) }
  end
end
