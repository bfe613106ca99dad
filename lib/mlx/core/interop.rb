# frozen_string_literal: true

module MLX
  module Core
    # Wraps an object that converts itself to an MLX array through
    # #__mlx__array__.
    class ArrayLike
      attr_reader :object

      def initialize(object)
        raise TypeError, "#{object.class} does not respond to __mlx__array__" unless object.respond_to?(:__mlx__array__)

        @object = object
      end

      def to_a = Args.array(@object.__mlx__array__)
    end

    # What Array#__dlpack__ hands out: the array with its dtype, shape and
    # device. Inside one process the capsule carries the array itself.
    class DLPackCapsule
      attr_reader :array, :device, :stream

      def initialize(array, device:, stream: nil)
        raise TypeError, "expected MLX::Core::Array" unless array.is_a?(MLX::Core::Array)

        @array = array
        @device = device
        @stream = stream
      end

      def dtype = @array.dtype
      def shape = @array.shape

      def to_h
        { "dtype" => dtype.name.to_s, "shape" => shape, "device" => device, "stream" => stream }
      end
    end

    class Array
      # DLPack device type ids: 1 CPU, 13 CUDA (8 would be Metal).
      def __dlpack_device__
        [Native.default_device.type == :gpu ? 13 : 1, 0]
      end
      alias __dlpack_device __dlpack_device__

      def __dlpack__(stream = nil)
        raise TypeError, "stream must be nil or an Integer" unless stream.nil? || stream.is_a?(Integer)

        DLPackCapsule.new(self, device: __dlpack_device__, stream: stream)
      end
    end

    module_function

    # from_dlpack(obj): the array of a DLPackCapsule, or an array itself.
    def from_dlpack(obj)
      case obj
      when DLPackCapsule then obj.array
      when MLX::Core::Array then obj
      else raise TypeError, "from_dlpack expects a DLPackCapsule or MLX::Core::Array, got #{obj.class}"
      end
    end
  end
end
