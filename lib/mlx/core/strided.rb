# frozen_string_literal: true

module MLX
  module Core
    class Array
      def view(dtype, stream = nil) = Core.view(self, dtype, stream)
      def diagonal(*args, **kw) = Core.diagonal(self, *args, **kw)
      def diag(*args, **kw) = Core.diag(self, *args, **kw)
    end

    module_function

    # as_strided(a, shape, strides, offset = 0): a view of a's row-major
    # data (a is made contiguous first) with element strides and offset.
    # Unlike upstream, a layout that reaches outside a raises
    # MLX::ArgumentError instead of reading out of bounds.
    def as_strided(a, shape = nil, strides = nil, pos_offset = 0, pos_stream = nil, offset: pos_offset,
                   stream: pos_stream)
      a = Args.array(a)
      shape ||= a.shape
      strides ||= Args.row_strides(shape)
      Native.as_strided(a, Args.shape(shape), strides, offset, stream)
    end

    # view(a, dtype): a's bytes reinterpreted as dtype (the last axis
    # scales by the ratio of item sizes).
    def view(a, dtype, pos_stream = nil, stream: pos_stream)
      raise MLX::ArgumentError, "[view] a dtype is required" if dtype.nil?

      Native.view(Args.array(a), dtype, stream)
    end

    # diagonal(a, offset = 0, axis1 = 0, axis2 = 1): a view of the
    # diagonals, appended as the last axis.
    def diagonal(a, pos_offset = 0, pos_axis1 = 0, pos_axis2 = 1, pos_stream = nil, offset: pos_offset,
                 axis1: pos_axis1, axis2: pos_axis2, stream: pos_stream)
      Native.diagonal(Args.array(a), offset, axis1, axis2, stream)
    end

    # diag(a, k = 0): a 1-D array on the k-th diagonal of a matrix, or a
    # matrix's k-th diagonal.
    def diag(a, pos_k = 0, pos_stream = nil, k: pos_k, stream: pos_stream)
      Native.diag(Args.array(a), k, stream)
    end

    # trace(a, offset = 0, axis1 = 0, axis2 = 1, dtype = nil): sum of the
    # diagonal (sum's result dtype unless dtype is given).
    def trace(a, pos_offset = 0, pos_axis1 = 0, pos_axis2 = 1, pos_dtype = nil, pos_stream = nil, offset: pos_offset,
              axis1: pos_axis1, axis2: pos_axis2, dtype: pos_dtype, stream: pos_stream)
      Native.trace(Args.array(a), offset, axis1, axis2, dtype, stream)
    end
  end
end
