# frozen_string_literal: true

require "test_helper"

# Shape ops replayed against Python MLX (test/fixtures/shapes.json), plus the
# Ruby-side forms (Integer shapes, -1, Array methods, roll, atleast_*).
class ShapesTest < Minitest::Test
  FIX = MLXTestHelper.fixture("shapes")

  FIX["cases"].group_by { |c| c["op"] }.each do |op, cases|
    define_method("test_oracle_#{op}") do
      cases.each_with_index do |c, i|
        args = c["args"].map { |a| decode_arg(FIX, a) }
        label = "#{op} case #{i} #{c['args'][1..].inspect[0, 60]}"
        assert_case(FIX, c, label, exact: true) { MX.public_send(op, *args) }
      end
    end
  end

  def test_reshape_forms
    a = MX.arange(6)
    assert_equal [2, 3], MX.reshape(a, [2, 3]).shape
    assert_equal [6], MX.reshape(a, 6).shape
    assert_equal [3, 2], a.reshape(3, 2).shape
    assert_equal [3, 2], a.reshape([3, -1]).shape
    assert_equal [[0, 1, 2], [3, 4, 5]], a.reshape(2, -1).to_a
    err = assert_raises(MLX::ShapeError) { a.reshape(4, 2) }
    assert_kind_of ArgumentError, err
    assert_kind_of MLX::Error, err
  end

  def test_transpose_forms
    a = MX.arange(6).reshape(2, 3)
    assert_equal [[0, 3], [1, 4], [2, 5]], a.T.to_a
    assert_equal [3, 2], a.transpose.shape
    assert_equal [3, 2], a.transpose(1, 0).shape
    assert_equal [3, 2], MX.permute_dims(a, [1, 0]).shape
  end

  def test_squeeze_expand_flatten
    a = MX.zeros([1, 3, 1])
    assert_equal [3], a.squeeze.shape
    assert_equal [1, 3], a.squeeze(2).shape
    assert_equal [1, 1, 3, 1], MX.expand_dims(a, 0).shape
    assert_equal [3], a.flatten.shape
    assert_equal [1, 3], MX.flatten(a, 1).shape
    assert_equal [1, 3, 1], MX.unflatten(MX.zeros([3]), 0, [1, 3, 1]).shape
  end

  def test_atleast
    assert_equal [1], MX.atleast_1d(MX.array(1.0)).shape
    assert_equal [1, 2], MX.atleast_2d(MX.array([1.0, 2.0])).shape
    assert_equal [1, 2, 1], MX.atleast_3d(MX.array([1.0, 2.0])).shape
  end

  def test_broadcast
    assert_equal [2, 3, 4], MX.broadcast_shapes([3, 1], [2, 1, 4])
    assert_equal [5], MX.broadcast_shapes([5])
    assert_raises(MLX::Error) { MX.broadcast_shapes([3], [4]) }
    a, b = MX.broadcast_arrays([MX.zeros([3, 1]), MX.ones([1, 4])])
    assert_equal [3, 4], a.shape
    assert_equal [3, 4], b.shape
  end

  def test_concatenate_default_axis_and_lists
    a = MX.ones([2, 2])
    assert_equal [4, 2], MX.concatenate([a, a]).shape
    assert_equal [8], MX.concatenate([a, a], nil).shape
    assert_equal [2, 4], MX.concat([a, a], axis: 1).shape
    assert_equal [2, 2, 2], MX.stack([a, a]).shape
    assert_equal [[1, 2], [3, 4]], MX.stack([[1, 2], [3, 4]]).to_a
  end

  def test_split_forms
    parts = MX.split(MX.arange(6), 3)
    assert_equal [[0, 1], [2, 3], [4, 5]], parts.map(&:to_a)
    parts = MX.arange(6).split([1, 4])
    assert_equal [[0], [1, 2, 3], [4, 5]], parts.map(&:to_a)
    assert_raises(MLX::Error) { MX.split(MX.arange(5), 2) }
  end

  def test_roll
    a = MX.arange(5)
    assert_equal [3, 4, 0, 1, 2], MX.roll(a, 2).to_a
    assert_equal [1, 2, 3, 4, 0], MX.roll(a, -1).to_a
    b = MX.arange(6).reshape(2, 3)
    assert_equal [[2, 0, 1], [5, 3, 4]], MX.roll(b, 1, 1).to_a
    assert_equal [[5, 0, 1], [2, 3, 4]], MX.roll(b, 1).to_a
    assert_equal [[5, 3, 4], [2, 0, 1]], MX.roll(b, [1, 1], [0, 1]).to_a
  end

  def test_pad_forms
    a = MX.array([[1, 2]])
    assert_equal [[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]], MX.pad(a, 1).to_a
    assert_equal [[9, 1, 2]], MX.pad(a, [[0, 0], [1, 0]], constant_values: 9).to_a
    assert_equal [[1, 1, 2, 2]], MX.pad(a, [[0, 0], [1, 1]], "edge").to_a
    assert_raises(ArgumentError) { MX.pad(a, [[1, 1]] * 3) }
  end

  def test_tile_repeat
    a = MX.array([1, 2])
    assert_equal [1, 2, 1, 2], MX.tile(a, 2).to_a
    assert_equal [1, 1, 2, 2], MX.repeat(a, 2).to_a
    assert_equal [[1, 2], [1, 2]], MX.repeat(MX.array([[1, 2]]), 2, 0).to_a
  end

  def test_slice_function
    a = MX.arange(10)
    assert_equal [2, 4, 6], MX.slice(a, [2], [8], [2]).to_a
    assert_equal [2, 3], MX.slice(a, [2], [4]).to_a
  end

  def test_meshgrid
    x, y = MX.meshgrid([MX.array([1, 2]), MX.array([3, 4, 5])])
    assert_equal [[1, 2], [1, 2], [1, 2]], x.to_a
    assert_equal [[3, 3], [4, 4], [5, 5]], y.to_a
    x, y = MX.meshgrid([MX.array([1, 2]), MX.array([3, 4, 5])], indexing: "ij")
    assert_equal [2, 3], x.shape
    assert_equal [[3, 4, 5], [3, 4, 5]], y.to_a
    xs, ys = MX.meshgrid([MX.array([1, 2]), MX.array([3, 4, 5])], true)
    assert_equal [1, 2], xs.shape
    assert_equal [3, 1], ys.shape
  end

  def test_contiguous
    a = MX.arange(6).reshape(2, 3).T
    c = MX.contiguous(a)
    assert_equal a.to_a, c.to_a
  end
end
