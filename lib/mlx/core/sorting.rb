# frozen_string_literal: true

module MLX
  module Core
    module_function

    # sort(a, axis = -1): ascending, stable, NaN last. axis nil sorts the
    # flattened array. (Upstream's default axis; the earlier Ruby binding
    # flattened by default, an explicit nil still does.)
    def sort(a, pos_axis = -1, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.sort(a, axis, stream)
    end

    # argsort(a, axis = -1): uint32 indices that sort a (ties in index order).
    def argsort(a, pos_axis = -1, pos_stream = nil, axis: pos_axis, stream: pos_stream)
      Native.argsort(a, axis, stream)
    end

    # partition(a, kth, axis = -1): the element of rank kth (negative from the
    # end) in place, smaller ones before it, larger after.
    def partition(a, pos_kth = nil, pos_axis = -1, pos_stream = nil, kth: pos_kth, axis: pos_axis,
                  stream: pos_stream)
      raise ::ArgumentError, "partition needs kth" if kth.nil?

      Native.partition(a, kth, axis, stream)
    end

    # argpartition(a, kth, axis = -1): uint32 indices that partition a.
    def argpartition(a, pos_kth = nil, pos_axis = -1, pos_stream = nil, kth: pos_kth, axis: pos_axis,
                     stream: pos_stream)
      raise ::ArgumentError, "argpartition needs kth" if kth.nil?

      Native.argpartition(a, kth, axis, stream)
    end

    # topk(a, k, axis = -1): the k largest elements along axis, in
    # upstream's (partition) order, not sorted.
    def topk(a, pos_k = nil, pos_axis = -1, pos_stream = nil, k: pos_k, axis: pos_axis, stream: pos_stream)
      raise ::ArgumentError, "topk needs k" if k.nil?

      Native.topk(a, k, axis, stream)
    end

    # median(a, axis = nil, keepdims = false): axis nil, an Integer or an
    # Array of Integers; the result is at least float32.
    def median(a, pos_axis = nil, pos_keepdims = false, pos_stream = nil, axis: pos_axis, keepdims: pos_keepdims,
               stream: pos_stream)
      Native.median(a, axis, keepdims, stream)
    end

    # searchsorted(sorted_sequence, values, side = "left"): uint32 insertion
    # points of values into the 1-D ascending sorted_sequence.
    def searchsorted(sorted_sequence, values, pos_side = "left", pos_stream = nil, side: pos_side,
                     stream: pos_stream)
      side = side.to_s
      unless %w[left right].include?(side)
        raise MLX::ArgumentError, "[searchsorted] Invalid side '#{side}'. Expected 'left' or 'right'."
      end

      Native.searchsorted(sorted_sequence, values, side == "right", stream)
    end

    # cumsum(a, axis = nil, reverse = false, inclusive = true): axis nil scans
    # the flattened array; dtype: casts the input first (as Python's).
    def cumsum(a, pos_axis = nil, pos_reverse = false, pos_inclusive = true, pos_stream = nil, axis: pos_axis,
               reverse: pos_reverse, inclusive: pos_inclusive, dtype: nil, stream: pos_stream)
      a = MLX::Core.astype(a, dtype, stream) unless dtype.nil?
      Native.cumsum(a, axis, reverse, inclusive, stream)
    end

    def cumprod(a, pos_axis = nil, pos_reverse = false, pos_inclusive = true, pos_stream = nil, axis: pos_axis,
                reverse: pos_reverse, inclusive: pos_inclusive, dtype: nil, stream: pos_stream)
      a = MLX::Core.astype(a, dtype, stream) unless dtype.nil?
      Native.cumprod(a, axis, reverse, inclusive, stream)
    end

    %i[cummax cummin logcumsumexp].each do |op|
      module_eval(<<~RUBY, __FILE__, __LINE__ + 1)
        def self.#{op}(a, pos_axis = nil, pos_reverse = false, pos_inclusive = true, pos_stream = nil,
                       axis: pos_axis, reverse: pos_reverse, inclusive: pos_inclusive, stream: pos_stream)
          Native.#{op}(a, axis, reverse, inclusive, stream)
        end
      RUBY
    end

    alias_method :cumulative_sum, :cumsum
    alias_method :cumulative_prod, :cumprod
    module_function :cumulative_sum, :cumulative_prod

    # The scans as array methods, as Python's mx.array has them:
    # a.cumsum(axis = nil, reverse = false, inclusive = true).
    class Array
      %i[cumsum cumprod cummax cummin logcumsumexp].each do |op|
        define_method(op) do |pos_axis = nil, pos_reverse = false, pos_inclusive = true, pos_stream = nil,
                              axis: pos_axis, reverse: pos_reverse, inclusive: pos_inclusive, stream: pos_stream|
          Native.public_send(op, self, axis, reverse, inclusive, stream)
        end
      end
    end
  end
end
