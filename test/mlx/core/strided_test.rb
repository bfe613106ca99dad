# frozen_string_literal: true

require "test_helper"

# as_strided, view, diagonal, diag, trace. Expected values printed once
# with Python mlx 0.32.4.
class StridedTest < Minitest::Test
  def test_diagonal
    a = MX.astype(MX.reshape(MX.arange(24), [2, 3, 4]), :float32)
    assert_equal [[12.0], [16.0], [20.0]], MX.diagonal(a, 1, 2, 0).to_a
    assert_equal [[12.0], [16.0], [20.0]], MX.diagonal(a, offset: 1, axis1: 2, axis2: 0).to_a
    assert_equal [[0.0, 5.0, 10.0], [12.0, 17.0, 22.0]], a.diagonal(0, 1, 2).to_a
    assert_equal [4, 0], MX.diagonal(a, 5).shape
    assert_raises(MLX::ArgumentError) { MX.diagonal(a, 0, 1, 1) }
    assert_raises(MLX::ArgumentError) { MX.diagonal(a, 0, 0, 3) }
    assert_raises(MLX::ArgumentError) { MX.diagonal(MX.arange(3)) }
  end

  def test_diag
    v = MX.arange(3.0)
    want = ::Array.new(5) { ::Array.new(5, 0.0) }
    want[1][3] = 1.0
    want[2][4] = 2.0
    assert_equal want, MX.diag(v, 2).to_a
    assert_equal [[0.0, 0.0], [5.0, 0.0]], MX.diag(MX.array([5.0]), -1).to_a
    assert_equal [0.0, 3.0], MX.diag(MX.reshape(MX.arange(4.0), [2, 2]), k: 0).to_a
    assert_raises(MLX::ArgumentError) { MX.diag(MX.zeros([2, 2, 2])) }
  end

  def test_trace
    a = MX.astype(MX.reshape(MX.arange(24), [2, 3, 4]), :float32)
    assert_equal [13.0, 37.0], MX.trace(a, -1, 1, 2).to_a
    assert_equal :int32, MX.trace(MX.reshape(MX.arange(9, dtype: :int8), [3, 3])).dtype.name
    t = MX.trace(MX.reshape(MX.arange(9.0), [3, 3]), dtype: :int32)
    assert_equal :int32, t.dtype.name
    assert_equal 12, t.item
  end

  def test_view
    assert_equal [15_360, 49_152], MX.view(MX.array([1.0, -2.0], :float16), :uint16).to_a
    assert_equal [0, 1_073_217_536], MX.view(MX.array([1.5], :float64), :int32).to_a
    assert_equal [50_462_976], MX.view(MX.arange(4, dtype: :int8), :int32).to_a
    assert_raises(MLX::ArgumentError) { MX.view(MX.arange(3, dtype: :int8), :int32) }
    assert_raises(MLX::ArgumentError) { MX.view(MX.array(1, :int8), :int32) }
    assert_raises(MLX::ArgumentError) { MX.view(MX.array([1]), nil) }
  end

  def test_as_strided
    x = MX.arange(10.0)
    want = [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0], [5.0, 6.0, 7.0, 8.0]]
    assert_equal want, MX.as_strided(x, [3, 4], [2, 1], 1).to_a
    assert_equal want, MX.as_strided(x, [3, 4], [2, 1], offset: 1).to_a
    t = MX.transpose(MX.reshape(MX.arange(6.0), [2, 3]))
    assert_equal [0.0, 3.0, 1.0, 4.0, 2.0, 5.0], MX.as_strided(t, [6], [1]).to_a
    # Upstream reads past the end here; we refuse.
    assert_raises(MLX::ArgumentError) { MX.as_strided(MX.arange(4.0), [3], [2], 0) }
    assert_raises(MLX::ArgumentError) { MX.as_strided(x, [2], [1, 1]) }
  end

  def test_transforms
    sq = ->(x) { MX.trace(x * x) }
    assert_equal [[0.0, 0.0], [0.0, 6.0]], MX.grad(sq).call(MX.reshape(MX.arange(4.0), [2, 2])).to_a
    windows = ->(x) { MX.sum(MX.as_strided(x, [2, 2], [1, 1])) }
    assert_equal [1.0, 2.0, 1.0], MX.grad(windows).call(MX.array([1.0, 2.0, 3.0])).to_a
    diag = MX.vmap(->(x) { MX.diagonal(x) })
    assert_equal [[0.0, 4.0, 8.0], [9.0, 13.0, 17.0]], diag.call(MX.reshape(MX.arange(18.0), [2, 3, 3])).to_a
  end
end
