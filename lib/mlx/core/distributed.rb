# frozen_string_literal: true

module MLX
  module Core
    # A group of processes taking part in collective operations. This
    # engine has no multi-process backend yet, so the only group is the
    # singleton (rank 0 of 1), on which upstream MLX's collectives return
    # their input and point-to-point operations raise.
    class Group
      def initialize(rank = nil, size = nil)
        @rank = rank
        @size = size
      end

      def rank
        check_initialized
        @rank
      end

      def size
        check_initialized
        @size
      end

      # split(color, key = -1): a singleton cannot be split (as upstream).
      def split(_color, _key = -1)
        check_initialized
        raise MLX::RuntimeError, "Cannot split the distributed group further."
      end

      def to_s = @rank.nil? ? "#<MLX::Core::Group uninitialized>" : "#<MLX::Core::Group rank=#{@rank} size=#{@size}>"
      alias inspect to_s

      private

      def check_initialized
        raise MLX::RuntimeError, "the group is not initialized; use MLX::Core.init" if @rank.nil?
      end
    end

    # Backends a process group can use. "any" (and nil) picks one; only the
    # singleton group exists here, so no named backend is available.
    DISTRIBUTED_BACKENDS = %w[any ring mpi nccl jaccl].freeze

    module_function

    # distributed_is_available(backend = nil) -> true only for "any"/nil
    # (the singleton group); the named multi-process backends are not built.
    def distributed_is_available(backend = nil)
      return true if backend.nil?

      name = backend.to_s
      raise MLX::ArgumentError, "unknown distributed backend #{name.inspect}" unless DISTRIBUTED_BACKENDS.include?(name)

      name == "any"
    end

    # init(strict = false, backend = "any") -> Group. The singleton group;
    # strict (a real multi-process backend required) raises.
    def init(pos_strict = false, pos_backend = "any", strict: pos_strict, backend: pos_backend)
      distributed_is_available(backend)
      raise MLX::RuntimeError, "[distributed] Couldn't initialize any backend" if strict || backend.to_s != "any"

      Group.new(0, 1)
    end

    # Collectives over a group: on the singleton group each returns x.
    %i[all_sum all_max all_min all_gather sum_scatter].each do |name|
      define_singleton_method(name) do |x, group = nil, stream = nil|
        distributed_group(group)
        Native.contiguous(Args.array(x), false, stream)
      end
    end

    # send(x, dst, group = nil, stream = nil): shadows Object#send on
    # MLX::Core (use __send__ for reflection). A singleton group has no peer.
    def send(x, dst, group = nil, _stream = nil)
      Args.array(x)
      raise TypeError, "dst must be an Integer" unless dst.is_a?(Integer)

      distributed_group(group)
      raise MLX::RuntimeError, "Cannot send to a singleton group"
    end

    def recv(shape, dtype, src, group = nil, _stream = nil)
      raise MLX::ArgumentError, "[recv] a dtype is required" if dtype.nil?

      Args.shape(shape)
      Dtype.new(dtype) unless dtype.is_a?(Dtype)
      raise TypeError, "src must be an Integer" unless src.is_a?(Integer)

      distributed_group(group)
      raise MLX::RuntimeError, "Cannot recv from a singleton group"
    end

    def recv_like(x, src, group = nil, stream = nil)
      x = Args.array(x)
      recv(x.shape, x.dtype, src, group, stream)
    end

    def distributed_group(group)
      return Group.new(0, 1) if group.nil?
      raise TypeError, "expected an MLX::Core::Group, got #{group.class}" unless group.is_a?(Group)

      group.size
      group
    end
    private_class_method :distributed_group
  end
end
