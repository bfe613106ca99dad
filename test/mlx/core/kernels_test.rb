# frozen_string_literal: true

require "test_helper"

# Metal-only functions raise a clear DeviceError; CUDA kernels check their
# arguments and need the GPU backend to run.
class KernelsTest < Minitest::Test
  def test_metal_functions_raise
    refute MX.metal_is_available
    [-> { MX.metal_kernel("k", ["a"], ["b"], "src") }, -> { MX.metal_start_capture("x.gputrace") },
     -> { MX.metal_stop_capture }, -> { MX.metal_device_info }].each do |call|
      err = assert_raises(MLX::DeviceError) { call.call }
      assert_match(/Metal is not available on this platform/, err.message)
    end
  end

  def test_cuda_kernel_arguments
    k = MX.cuda_kernel("myexp", ["inp"], ["out"], "out[0] = exp(inp[0]);")
    assert_kind_of MX::Kernel, k
    assert_equal ["inp"], k.input_names
    assert_raises(MLX::ArgumentError) { k.call(inputs: [MX.array([1.0])]) }
    assert_raises(TypeError) { MX.cuda_kernel("k", "inp", ["out"], "") }
    unless MX.is_available(:gpu)
      err = assert_raises(MLX::DeviceError) do
        k.call(inputs: [MX.array([1.0])], output_shapes: [[1]], output_dtypes: [:float32], grid: [1, 1, 1],
               threadgroup: [1, 1, 1])
      end
      assert_match(/CUDA/, err.message)
      assert_raises(MLX::DeviceError) do
        MX.precompiled_cuda_kernel("k", "ptx", [], [[1]], [:float32], nil, 1, 1)
      end
    end
  end
end
