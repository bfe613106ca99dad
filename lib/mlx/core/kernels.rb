# frozen_string_literal: true

module MLX
  module Core
    # A custom GPU kernel made by cuda_kernel. Running one needs the CUDA
    # backend; until it is available, #call checks its arguments and raises
    # MLX::DeviceError with the reason.
    class Kernel
      REQUIRED = %i[inputs output_shapes output_dtypes grid threadgroup].freeze

      attr_reader :name, :input_names, :output_names, :source, :header

      def initialize(name, input_names, output_names, source, header = "", ensure_row_contiguous = true,
                     shared_memory = 0)
        [input_names, output_names].each do |list|
          unless list.is_a?(::Array) && list.all? { |n| n.is_a?(String) }
            raise TypeError, "input and output names must be Arrays of Strings"
          end
        end
        raise TypeError, "the kernel source must be a String" unless source.is_a?(String)

        @name = name
        @input_names = input_names
        @output_names = output_names
        @source = source
        @header = header
        @ensure_row_contiguous = ensure_row_contiguous
        @shared_memory = shared_memory
      end

      def call(**kw)
        kw = kw.transform_keys(&:to_sym)
        missing = REQUIRED.reject { |k| kw.key?(k) }
        raise MLX::ArgumentError, "[#{@name}] missing arguments: #{missing.join(', ')}" unless missing.empty?

        Core.__send__(:gpu_required!, "custom CUDA kernels")
      end
      alias [] call
    end

    module_function

    # metal_kernel(...): Metal exists only on Apple platforms.
    def metal_kernel(*, **) = metal_unavailable!("metal_kernel")
    def metal_start_capture(_path) = metal_unavailable!("metal_start_capture")
    def metal_stop_capture = metal_unavailable!("metal_stop_capture")
    def metal_device_info = metal_unavailable!("metal_device_info")

    # cuda_kernel(name, input_names, output_names, source, header = "",
    # ensure_row_contiguous = true, shared_memory = 0) -> Kernel.
    def cuda_kernel(name, input_names, output_names, source, header = "", ensure_row_contiguous = true,
                    shared_memory = 0)
      Kernel.new(name, input_names, output_names, source, header, ensure_row_contiguous, shared_memory)
    end

    # precompiled_cuda_kernel(...) -> [A]: needs the CUDA backend.
    def precompiled_cuda_kernel(name, _compiled_source, _inputs, _output_shapes, _output_dtypes, _scalars, _grid,
                                _threadgroup, _shared_memory = 0, _init_value = nil, _ensure_row_contiguous = false,
                                _stream = nil)
      gpu_required!("precompiled_cuda_kernel #{name}")
    end

    def metal_unavailable!(name)
      raise MLX::DeviceError, "[#{name}] Metal is not available on this platform (MLX for Ruby runs on the CPU and CUDA)"
    end
    private_class_method :metal_unavailable!

    def gpu_required!(what)
      reason = Native.gpu_unavailable_reason
      raise MLX::DeviceError, "#{what} need the CUDA backend: #{reason.empty? ? 'not implemented yet' : reason}"
    end
    private_class_method :gpu_required!
  end
end
