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

      def list_of(value, n, name, what)
        msg = "[#{name}] '#{what}' must be an integer or a tuple containing #{n} integer#{n > 1 ? 's' : ''}"
        if value.is_a?(::Array)
          raise ArgumentError, msg unless value.size == n

          return value.dup
        end
        raise ArgumentError, msg unless value.is_a?(Integer)

        [value] * n
      end

      # [N, *out_spatial, *window, C]: a reshape when the windows tile the
      # input, else a strided view.
      def windows(x)
        if x.ndim < 3
          raise ArgumentError, "To extract sliding windows at least 1 spatial dimension (3 total) is needed but the " \
                               "input only has #{x.ndim} dimensions."
        end

        shape = x.shape
        spatial = shape[1...-1]
        if spatial.size != @kernel.size
          raise ArgumentError, "To extract sliding windows the window shapes and strides must have the same number of " \
                               "spatial dimensions as the signal but the signal has #{spatial.size} dims and the " \
                               "window shape has #{@kernel.size} and strides have #{@stride.size}."
        end
        tiles = spatial.each_with_index.all? { |s, i| @kernel[i] == @stride[i] && (s % @kernel[i]).zero? }
        return tiled_windows(x, shape) if tiles

        strides = Core::Args.row_strides(shape)
        out = spatial.each_with_index.map { |s, i| ((s - @kernel[i]) / @stride[i]) + 1 }
        final_shape = [shape[0], *out, *@kernel, shape[-1]]
        final_strides = [strides[0], *strides[1...-1].each_with_index.map { |st, i| st * @stride[i] },
                         *strides[1...-1], strides[-1]]
        Core.as_strided(x, final_shape, final_strides)
      end

      def tiled_windows(x, shape)
        new_shape = [shape[0]]
        shape[1...-1].each_with_index do |s, i|
          new_shape << s / @kernel[i]
          new_shape << @kernel[i]
        end
        new_shape << shape[-1]
        last = new_shape.size - 1
        order = [0, *(1...last).step(2), *(2...last).step(2), last]
        Core.transpose(Core.reshape(x, new_shape), order)
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
