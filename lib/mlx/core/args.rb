# frozen_string_literal: true

module MLX
  module Core
    # Argument helpers shared by the MLX::Core functions (not public API).
    module Args
      module_function

      # A dtype given as a Dtype, Symbol or String (a name the engine knows).
      def dtype?(value)
        case value
        when Dtype then true
        when Symbol, String
          begin
            Dtype.new(value)
            true
          rescue ::ArgumentError
            false
          end
        else false
        end
      end

      # An Integer shape becomes [n].
      def shape(value)
        value.is_a?(Integer) ? [value] : value
      end

      # Any array-like as an MLX::Core::Array (arrays pass through).
      def array(value, dtype = nil)
        value.is_a?(MLX::Core::Array) && dtype.nil? ? value : Native.array(value, dtype)
      end

      # Row-major element strides of a shape.
      def row_strides(shape)
        strides = ::Array.new(shape.size)
        acc = 1
        (shape.size - 1).downto(0) do |i|
          strides[i] = acc
          acc *= shape[i]
        end
        strides
      end

      # A list of array-likes as MLX::Core::Arrays.
      def arrays(list)
        raise TypeError, "expected an Array of arrays, got #{list.class}" unless list.is_a?(::Array)

        list.map { |x| array(x) }
      end
    end
  end
end
