# frozen_string_literal: true

module MLX
  module Core
    # Convolution argument helpers (not public API).
    module ConvArgs
      module_function

      # An Integer or an Array of n Integers as an Array of n Integers.
      def tuple(value, n, name)
        list = value.is_a?(::Array) ? value : [value]
        list *= n unless value.is_a?(::Array)
        raise TypeError, "#{name} must be an Integer or an Array of Integers, got #{value.inspect}" unless list.all?(Integer)
        raise MLX::ArgumentError, "#{name} must have #{n} entries, got #{value.inspect}" unless list.size == n

        list
      end

      # conv_general's lists: an Integer or an Array (any length; the engine
      # checks it against the spatial dims).
      def list(value, name)
        list = value.is_a?(::Array) ? value : [value]
        raise TypeError, "#{name} must be an Integer or an Array of Integers, got #{value.inspect}" unless list.all?(Integer)

        list
      end

      # padding: Integer | Array (symmetric) | [low_array, high_array].
      def padding(value)
        if value.is_a?(::Array) && value.size == 2 && value.all?(::Array)
          [list(value[0], "padding"), list(value[1], "padding")]
        else
          lo = list(value, "padding")
          [lo, lo]
        end
      end
    end
    private_constant :ConvArgs

    module_function

    # conv1d(input, weight, stride = 1, padding = 0, dilation = 1, groups = 1):
    # input [N, L, C_in], weight [C_out, K, C_in / groups].
    def conv1d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_groups = 1, pos_stream = nil,
               stride: pos_stride, padding: pos_padding, dilation: pos_dilation, groups: pos_groups, stream: pos_stream)
      conv_nd(1, input, weight, stride, padding, dilation, groups, stream)
    end

    # conv2d: input [N, H, W, C_in], weight [C_out, KH, KW, C_in / groups];
    # stride/padding/dilation an Integer or 2 Integers.
    def conv2d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_groups = 1, pos_stream = nil,
               stride: pos_stride, padding: pos_padding, dilation: pos_dilation, groups: pos_groups, stream: pos_stream)
      conv_nd(2, input, weight, stride, padding, dilation, groups, stream)
    end

    # conv3d: input [N, D, H, W, C_in]; lists of 3.
    def conv3d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_groups = 1, pos_stream = nil,
               stride: pos_stride, padding: pos_padding, dilation: pos_dilation, groups: pos_groups, stream: pos_stream)
      conv_nd(3, input, weight, stride, padding, dilation, groups, stream)
    end

    def conv_transpose1d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_output_padding = 0,
                         pos_groups = 1, pos_stream = nil, stride: pos_stride, padding: pos_padding,
                         dilation: pos_dilation, output_padding: pos_output_padding, groups: pos_groups,
                         stream: pos_stream)
      conv_transpose_nd(1, input, weight, stride, padding, dilation, output_padding, groups, stream)
    end

    def conv_transpose2d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_output_padding = 0,
                         pos_groups = 1, pos_stream = nil, stride: pos_stride, padding: pos_padding,
                         dilation: pos_dilation, output_padding: pos_output_padding, groups: pos_groups,
                         stream: pos_stream)
      conv_transpose_nd(2, input, weight, stride, padding, dilation, output_padding, groups, stream)
    end

    def conv_transpose3d(input, weight, pos_stride = 1, pos_padding = 0, pos_dilation = 1, pos_output_padding = 0,
                         pos_groups = 1, pos_stream = nil, stride: pos_stride, padding: pos_padding,
                         dilation: pos_dilation, output_padding: pos_output_padding, groups: pos_groups,
                         stream: pos_stream)
      conv_transpose_nd(3, input, weight, stride, padding, dilation, output_padding, groups, stream)
    end

    # conv_general(input, weight, stride = 1, padding = 0, kernel_dilation = 1,
    # input_dilation = 1, groups = 1, flip = false): padding an Integer, an
    # Array (symmetric) or [low_array, high_array].
    def conv_general(input, weight, pos_stride = 1, pos_padding = 0, pos_kernel_dilation = 1, pos_input_dilation = 1,
                     pos_groups = 1, pos_flip = false, pos_stream = nil, stride: pos_stride, padding: pos_padding,
                     kernel_dilation: pos_kernel_dilation, input_dilation: pos_input_dilation, groups: pos_groups,
                     flip: pos_flip, stream: pos_stream)
      lo, hi = ConvArgs.padding(padding.nil? ? 0 : padding)
      Native.conv_general(input, weight, ConvArgs.list(stride.nil? ? 1 : stride, "stride"), lo, hi,
                          ConvArgs.list(kernel_dilation.nil? ? 1 : kernel_dilation, "kernel_dilation"),
                          ConvArgs.list(input_dilation.nil? ? 1 : input_dilation, "input_dilation"),
                          groups.nil? ? 1 : groups, flip ? true : false, stream)
    end

    # convolve(x, v, mode = "full"): 1-D discrete convolution (numpy.convolve)
    # of two array-likes; mode a String.
    def convolve(x, v, pos_mode = "full", pos_stream = nil, mode: pos_mode, stream: pos_stream)
      Native.convolve(Args.array(x), Args.array(v), mode.nil? ? "full" : mode, stream)
    end

    def conv_nd(n, input, weight, stride, padding, dilation, groups, stream)
      Native.conv_nd(input, weight, ConvArgs.tuple(stride.nil? ? 1 : stride, n, "stride"),
                     ConvArgs.tuple(padding.nil? ? 0 : padding, n, "padding"),
                     ConvArgs.tuple(dilation.nil? ? 1 : dilation, n, "dilation"), groups.nil? ? 1 : groups, stream)
    end
    private_class_method :conv_nd

    def conv_transpose_nd(n, input, weight, stride, padding, dilation, output_padding, groups, stream)
      Native.conv_transpose_nd(input, weight, ConvArgs.tuple(stride.nil? ? 1 : stride, n, "stride"),
                               ConvArgs.tuple(padding.nil? ? 0 : padding, n, "padding"),
                               ConvArgs.tuple(dilation.nil? ? 1 : dilation, n, "dilation"),
                               ConvArgs.tuple(output_padding.nil? ? 0 : output_padding, n, "output_padding"),
                               groups.nil? ? 1 : groups, stream)
    end
    private_class_method :conv_transpose_nd
  end
end
