# frozen_string_literal: true

require "test_helper"

# Dropout2d / Dropout3d while training: whole channels are dropped (one
# draw per sample and channel), the rest scaled by 1 / (1 - p), and about
# p of them dropped. Eval mode and p = 0 are covered against Python in
# layers_oracle_test.rb.
class DropoutTrainingTest < Minitest::Test
  NN = MLX::NN

  # [fraction of channels kept, whether each channel is constant (all
  # dropped or all kept), the value of the kept ones].
  def channel_stats(y, spatial_axes)
    per_channel_max = MX.max(y, spatial_axes)
    uniform = MX.array_equal(per_channel_max, MX.min(y, spatial_axes))
    kept = MX.mean(MX.astype(MX.not_equal(per_channel_max, 0), MX.float32)).item
    [kept, uniform, MX.max(per_channel_max).item]
  end

  def test_dropout2d_drops_whole_channels
    MX.random_seed(3)
    d = NN::Dropout2d.new(0.25)
    y = d.call(MX.ones([8, 3, 3, 250]))
    kept, uniform, scale = channel_stats(y, [1, 2])
    assert uniform, "a channel was dropped only in part"
    assert_in_delta 0.75, kept, 0.04 # 2000 draws: sd ~0.01
    assert_in_delta 1 / 0.75, scale, 1e-6
    # Unbatched [H, W, C]: one draw per channel.
    y = d.call(MX.ones([4, 2, 400]))
    kept, uniform, = channel_stats(y, [0, 1])
    assert uniform
    assert_in_delta 0.75, kept, 0.07
  end

  def test_dropout3d_drops_whole_channels
    MX.random_seed(4)
    d = NN::Dropout3d.new(0.6)
    y = d.call(MX.ones([10, 2, 2, 2, 200]))
    kept, uniform, scale = channel_stats(y, [1, 2, 3])
    assert uniform
    assert_in_delta 0.4, kept, 0.04
    assert_in_delta 1 / 0.4, scale, 1e-5
    y = d.call(MX.ones([2, 3, 2, 300]))
    kept, uniform, = channel_stats(y, [0, 1, 2])
    assert uniform
    assert_in_delta 0.4, kept, 0.08
  end

  def test_masks_differ_across_samples_and_calls
    MX.random_seed(5)
    d = NN::Dropout2d.new(0.5)
    y = d.call(MX.ones([2, 2, 2, 64]))
    refute MX.array_equal(MX.take(y, 0, 0), MX.take(y, 1, 0))
    refute MX.array_equal(y, d.call(MX.ones([2, 2, 2, 64])))
  end

  def test_ranks_and_probabilities
    x = MX.ones([2, 3])
    assert_raises(ArgumentError) { NN::Dropout2d.new.call(x) }
    assert_raises(ArgumentError) { NN::Dropout3d.new.call(MX.ones([2, 3, 4])) }
    assert_raises(ArgumentError) { NN::Dropout2d.new(1.0) }
    assert_raises(ArgumentError) { NN::Dropout3d.new(-0.1) }
    # Eval mode: the input itself, as for Dropout.
    x4 = MX.ones([1, 2, 2, 3])
    assert_same x4, NN::Dropout2d.new(0.5).eval.call(x4)
    assert_same x4, NN::Dropout2d.new(0.0).call(x4)
    # Gradients flow through the kept channels only, scaled.
    MX.random_seed(6)
    d = NN::Dropout2d.new(0.5)
    g = MX.grad(->(v) { MX.sum(d.call(v)) }).call(MX.ones([1, 2, 2, 32]))
    vals = g.to_flat_a.uniq.sort
    assert_equal [0.0, 2.0], vals
  end
end
