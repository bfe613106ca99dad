# frozen_string_literal: true

require "test_helper"

# The singleton process group: collectives return their input (as upstream
# MLX does on a group of one), point-to-point operations raise.
class DistributedTest < Minitest::Test
  def test_singleton_group
    g = MX.init
    assert_equal 0, g.rank
    assert_equal 1, g.size
    assert_equal "#<MLX::Core::Group rank=0 size=1>", g.inspect
    err = assert_raises(MLX::RuntimeError) { g.split(0) }
    assert_match(/Cannot split/, err.message)
    assert_raises(MLX::RuntimeError) { MX.init(true) }
    assert_raises(MLX::RuntimeError) { MX::Group.new.rank }
  end

  def test_availability
    assert MX.distributed_is_available
    assert MX.distributed_is_available("any")
    refute MX.distributed_is_available("mpi")
    refute MX.distributed_is_available("nccl")
    assert_raises(MLX::ArgumentError) { MX.distributed_is_available("carrier-pigeon") }
  end

  def test_collectives_return_the_input
    x = MX.array([[1.0, 2.0], [3.0, 4.0]])
    %i[all_sum all_max all_min all_gather sum_scatter].each do |op|
      assert_equal x.to_a, MX.__send__(op, x).to_a, op.to_s
      assert_equal x.to_a, MX.__send__(op, x, MX.init).to_a, op.to_s
    end
    assert_equal [1, 2], MX.all_sum([1, 2]).to_a
    assert_raises(TypeError) { MX.all_sum(x, "group") }
  end

  def test_point_to_point_raise
    x = MX.array([1.0])
    assert_match(/singleton/, assert_raises(MLX::RuntimeError) { MX.send(x, 0) }.message)
    assert_match(/singleton/, assert_raises(MLX::RuntimeError) { MX.recv([1], :float32, 0) }.message)
    assert_raises(MLX::RuntimeError) { MX.recv_like(x, 0) }
    assert_raises(MLX::ArgumentError) { MX.recv([1], nil, 0) }
    # __send__ still reflects.
    assert_equal [1.0], MX.__send__(:array, [1.0]).to_a
  end
end
