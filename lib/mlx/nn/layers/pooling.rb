# frozen_string_literal: true

module MLX
  module NN
    # Max and average pooling over 1-3 spatial axes of channels-last inputs
    # ([N, *spatial, C]): windows are strided views of the (padded) input,
    # reduced over the window axes.
    class Pool < Module
      def initialize(reduce, padding_value, n, kernel_size, stride, padding)
        super()
        name = self.class.name.split("::").last
        kernel = list_of(kernel_size, n, name, "kernel_size")
        stride = stride.nil? ? kernel : list_of(stride, n, name, "stride")
        padding = list_of(padding, n, name, "padding")
        { "kernel_size" => kernel, "stride" => stride }.each do |what, values|
          raise ArgumentError, "[#{name}] '#{what}' must be positive but got #{values}." if values.any? { |v| v <= 0 }
        end
        raise ArgumentError, "[#{name}] 'padding' must be non-negative but got #{padding}." if padding.any?(&:negative?)

        @reduce = reduce
        @padding_value = padding_value
        @kernel = kernel
        @stride = stride
        @padding = padding
        @axes = (-n - 1...-1).to_a
      end

      def call(x)
        if @padding.any?(&:positive?)
          widths = [[0, 0], *@padding.map { |p| [p, p] }, [0, 0]]
          x = Core.pad(x, widths, "constant", @padding_value)
        end
        Core.public_send(@reduce, windows(x), @axes)
      end

      private

      # The windows of x: [N, *out_spatial, *window, C].
      def windows(x)
        shape = x.shape
        # Tilings by input shape (a model calls a pool on a few shapes):
        # [reshaped shape, transpose order], or false for strided windows.
        @tilings ||= {}
        @tilings.clear if @tilings.size > 16
        tiled = @tilings.fetch(shape) { @tilings[shape] = tiling(x, shape) }
        return Core.transpose(Core.reshape(x, tiled[0]), tiled[1]) if tiled

        strided_windows(x, shape)
      end

      def list_of(value, n, name, what)
        msg = "[#{name}] '#{what}' must be an integer or a tuple containing #{n} integer#{n > 1 ? 's' : ''}"
        if value.is_a?(::Array)
          raise ArgumentError, msg unless value.size == n

          return value.dup
        end
        raise ArgumentError, msg unless value.is_a?(Integer)

        [value] * n
      end

      # [N, *out_spatial, *window, C]: a reshape and a transpose when the
      # windows tile the input, else false.
      def tiling(x, shape)
        if x.ndim < 3
          raise ArgumentError, "To extract sliding windows at least 1 spatial dimension (3 total) is needed but the " \
                               "input only has #{x.ndim} dimensions."
        end

        spatial = shape[1...-1]
        if spatial.size != @kernel.size
          raise ArgumentError, "To extract sliding windows the window shapes and strides must have the same number of " \
                               "spatial dimensions as the signal but the signal has #{spatial.size} dims and the " \
                               "window shape has #{@kernel.size} and strides have #{@stride.size}."
        end
        return false unless spatial.each_with_index.all? { |s, i| @kernel[i] == @stride[i] && (s % @kernel[i]).zero? }

        new_shape = [shape[0]]
        spatial.each_with_index do |s, i|
          new_shape << s / @kernel[i]
          new_shape << @kernel[i]
        end
        new_shape << shape[-1]
        last = new_shape.size - 1
        [new_shape, [0, *(1...last).step(2), *(2...last).step(2), last]]
      end

      # [N, *out_spatial, *window, C] as a strided view.
      def strided_windows(x, shape)
        spatial = shape[1...-1]
        strides = Core::Args.row_strides(shape)
        out = spatial.each_with_index.map { |s, i| ((s - @kernel[i]) / @stride[i]) + 1 }
        final_shape = [shape[0], *out, *@kernel, shape[-1]]
        final_strides = [strides[0], *strides[1...-1].each_with_index.map { |st, i| st * @stride[i] },
                         *strides[1...-1], strides[-1]]
        Core.as_strided(x, final_shape, final_strides)
      end
    end

    { "MaxPool" => [:max, -Float::INFINITY], "AvgPool" => [:mean, 0] }.each do |kind, (reduce, pad_value)|
      (1..3).each do |n|
        const_set("#{kind}#{n}d", Class.new(Pool) do
          define_method(:initialize) do |kernel_size, stride: nil, padding: 0|
            super(reduce, pad_value, n, kernel_size, stride, padding)
          end
        end)
      end
    end
  end
end
