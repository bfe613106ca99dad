# frozen_string_literal: true

module MLX
  module NN
    # Shared pieces of the convolution layers: channels-last inputs, weight
    # [out, *kernel, in / groups] drawn uniform(-s, s) with s =
    # sqrt(1 / fan_in), zero bias (upstream's initialisation).
    module ConvolutionLayer
      def self.tuple(value, n) = value.is_a?(Integer) ? [value] * n : value.to_a

      def init_conv(in_channels, out_channels, kernel, groups, bias)
        if (in_channels % groups).nonzero?
          raise ArgumentError, "The number of input channels (#{in_channels}) must be divisible by the number of " \
                               "groups (#{groups})"
        end

        scale = Math.sqrt(1.0 / (in_channels / groups * kernel.reduce(1, :*)))
        self.weight = Core.uniform([out_channels, *kernel, in_channels / groups], -scale, scale)
        self.bias = Core.zeros([out_channels]) if bias
      end

      def add_bias(y) = key?("bias") ? Core.add(y, self["bias"]) : y
    end

    class Conv1d < Module
      include ConvolutionLayer

      def initialize(in_channels, out_channels, kernel_size, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true)
        super()
        init_conv(in_channels, out_channels, [kernel_size], groups, bias)
        @padding = padding
        @dilation = dilation
        @stride = stride
        @groups = groups
      end

      def call(x) = add_bias(Core.conv1d(x, weight, @stride, @padding, @dilation, @groups))
    end

    class Conv2d < Module
      include ConvolutionLayer

      def initialize(in_channels, out_channels, kernel_size, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true)
        super()
        init_conv(in_channels, out_channels, ConvolutionLayer.tuple(kernel_size, 2), groups, bias)
        @stride = ConvolutionLayer.tuple(stride, 2)
        @padding = ConvolutionLayer.tuple(padding, 2)
        @dilation = dilation
        @groups = groups
      end

      def call(x) = add_bias(Core.conv2d(x, weight, @stride, @padding, @dilation, @groups))
    end

    class Conv3d < Module
      include ConvolutionLayer

      def initialize(in_channels, out_channels, kernel_size, stride: 1, padding: 0, dilation: 1, bias: true)
        super()
        init_conv(in_channels, out_channels, ConvolutionLayer.tuple(kernel_size, 3), 1, bias)
        @stride = ConvolutionLayer.tuple(stride, 3)
        @padding = ConvolutionLayer.tuple(padding, 3)
        @dilation = dilation
      end

      def call(x) = add_bias(Core.conv3d(x, weight, @stride, @padding, @dilation))
    end

    # ConvTranspose1d/2d/3d.new(in_channels, out_channels, kernel_size,
    # stride: 1, padding: 0, dilation: 1, output_padding: 0, bias: true).
    { 1 => :conv_transpose1d, 2 => :conv_transpose2d, 3 => :conv_transpose3d }.each do |n, op|
      const_set("ConvTranspose#{n}d", Class.new(Module) do
        include ConvolutionLayer

        define_method(:initialize) do |in_channels, out_channels, kernel_size, stride: 1, padding: 0, dilation: 1,
                                       output_padding: 0, bias: true|
          super()
          init_conv(in_channels, out_channels, ConvolutionLayer.tuple(kernel_size, n), 1, bias)
          @stride = n == 1 ? stride : ConvolutionLayer.tuple(stride, n)
          @padding = n == 1 ? padding : ConvolutionLayer.tuple(padding, n)
          @dilation = dilation
          @output_padding = n == 1 ? output_padding : ConvolutionLayer.tuple(output_padding, n)
        end

        define_method(:call) do |x|
          add_bias(Core.public_send(op, x, weight, @stride, @padding, @dilation, @output_padding))
        end
      end)
    end
  end
end
