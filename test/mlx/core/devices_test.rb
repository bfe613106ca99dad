# frozen_string_literal: true

require "test_helper"

# Devices and streams: values, defaults, switching for a block, the GPU's
# availability and the reason when it is not.
class DevicesTest < Minitest::Test
  def test_device_values
    cpu = MX.cpu
    assert_equal :cpu, cpu.type
    assert_equal 0, cpu.index
    assert_equal MX::Device.new(:cpu), cpu
    assert_equal MX::Device.new("CPU", 0), cpu
    assert cpu == :cpu
    assert cpu.eql?(MX::Device.new(:cpu))
    refute cpu.eql?(:cpu)
    assert_equal cpu.hash, MX::Device.new(:cpu).hash
    assert_equal "#<MLX::Core::Device type=:cpu index=0>", cpu.inspect
    assert_equal :gpu, MX.gpu.type
    assert_equal :gpu, MX::Device.new(:metal).type
    assert_raises(ArgumentError) { MX::Device.new(:tpu) }
    assert_raises(TypeError) { MX::Device.new(1) }
    assert_equal :cpu, MX::DeviceType.cpu
  end

  def test_availability
    assert MX.is_available(MX.cpu)
    assert MX.is_available(:cpu)
    assert_equal 1, MX.device_count(:cpu)
    gpu = MX.is_available(:gpu)
    assert_equal gpu, MX.gpu_is_available
    if gpu
      assert_equal "", MX.gpu_unavailable_reason
    else
      refute_empty MX.gpu_unavailable_reason
      assert_equal 0, MX.device_count(:gpu)
      err = assert_raises(MLX::DeviceError) { MX.set_default_device(MX.gpu) }
      assert_kind_of MLX::Error, err
      assert_kind_of RuntimeError, err
    end
    refute MX.metal_is_available
    info = MX.device_info(MX.cpu)
    assert_equal "cpu", info["type"]
    assert_operator info["threads"], :>=, 1
    assert_equal "gpu", MX.device_info(:gpu)["type"]
  end

  def test_default_device_and_streams
    assert_equal MX.cpu, MX.default_device unless MX.is_available(:gpu)
    s = MX.default_stream(MX.cpu)
    assert_kind_of MX::Stream, s
    assert_equal MX.cpu, s.device
    assert_equal "#<MLX::Core::Stream index=#{s.index} device=:cpu>", s.inspect
    s2 = MX.new_stream(MX.cpu)
    refute_equal s, s2
    assert_equal s2, MX::Stream.new(s2.index, MX.cpu)
    a = MX.add(MX.array([1.0]), 1.0, stream: s2)
    assert_equal [2.0], a.to_a
    assert_raises(MLX::Error) { MX.add(MX.array([1.0]), 1.0, MX::Stream.new(9999)) }
    MX.synchronize
    MX.synchronize(s2)
  end

  def test_stream_block_switches_and_restores
    before = MX.default_stream(MX.cpu)
    s2 = MX.new_stream(:cpu)
    value = MX.stream(s2) do
      assert_equal s2, MX.default_stream(:cpu)
      (MX.array([1.0]) * 3).to_a
    end
    assert_equal [3.0], value
    assert_equal before, MX.default_stream(:cpu)
    assert_equal 7, MX.stream(:cpu) { 7 }
    ctx = MX.stream(s2)
    assert_kind_of MX::StreamContext, ctx
    ctx.enter
    assert_equal s2, MX.default_stream(:cpu)
    ctx.exit
    assert_equal before, MX.default_stream(:cpu)
    MX.set_default_stream(before)
  end

  def test_set_default_device_cpu
    assert_equal MX.cpu, MX.set_default_device(MX.cpu)
    assert_equal :cpu, MX.set_default_device(:cpu)
  end
end
