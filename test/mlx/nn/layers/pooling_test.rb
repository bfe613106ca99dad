# frozen_string_literal: true

require "test_helper"

# One pool layer called on several input shapes in turn (a CNN reuses its
# MaxPool2d after each conv): the tiling remembered for one shape never
# serves another, and a shape whose windows do not tile the input takes
# the strided path. Values against a max computed here window by window;
# the layer's arithmetic itself is covered against Python in
# layers_oracle_test.rb.
class PoolingShapesTest < Minitest::Test
  NN = MLX::NN

  def reference_max(values, h, w, k, stride)
    oh = ((h - k) / stride) + 1
    ow = ((w - k) / stride) + 1
    Array.new(oh) do |i|
      Array.new(ow) do |j|
        (0...k).flat_map { |a| (0...k).map { |b| values[(i * stride) + a][(j * stride) + b] } }.max
      end
    end
  end

  def check(pool, h, w, k, stride)
    values = Array.new(h) { |i| Array.new(w) { |j| ((i * 7) + (j * 13)) % 11 - 5.0 } }
    x = MX.reshape(MX.array(values.flatten, MX.float32), [1, h, w, 1])
    got = MX.reshape(pool.call(x), [((h - k) / stride) + 1, ((w - k) / stride) + 1]).to_a
    assert_equal reference_max(values, h, w, k, stride), got, "#{h}x#{w}"
  end

  def test_one_pool_over_shapes_in_turn
    pool = NN::MaxPool2d.new(2)
    [[4, 4], [2, 6], [4, 4], [6, 2], [2, 6]].each { |h, w| check(pool, h, w, 2, 2) }
  end

  def test_tiling_and_strided_shapes_in_turn
    pool = NN::MaxPool2d.new(2)
    [[4, 4], [5, 5], [4, 4], [5, 4]].each { |h, w| check(pool, h, w, 2, 2) }
  end
end
