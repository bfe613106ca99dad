# frozen_string_literal: true

require "test_helper"

# Loss functions against Python MLX (test/fixtures/nn.json, ops "loss_*"),
# error cases included.
class LossesTest < Minitest::Test
  FIX = MLXTestHelper.fixture("nn")

  FIX["cases"].select { |c| c["op"].start_with?("loss_") }.group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        kwargs = c["kwargs"].to_h { |k, v| [k.to_sym, decode_arg(FIX, v)] }
        fn = op.delete_prefix("loss_")
        assert_case(FIX, c, "#{op} #{i} #{c['kwargs'].keys}") { MLX::NN::Losses.public_send(fn, *args, **kwargs) }
      end
    end
  end

  def test_module_functions_and_helpers
    x = MX.array([[1.0, 2.0]])
    assert MX.array_equal(MLX::NN.mse_loss(x, x), MX.array(0.0))
    assert_equal [2, 4], MLX::NN::Losses.drop_dim([2, 3, 4], 1)
    assert_equal %w[none mean sum], MLX::NN::Losses::VALID_REDUCTIONS
    assert_raises(ArgumentError) { MLX::NN::Losses.reduction(x, "max") }
    assert_equal 3.0, MLX::NN::Losses.reduction(x, :sum).item
  end
end
